"""Reading what a query page or fragment says about its query: the ``#query-state`` element
(the query-link contract), the result cards in rank order, and CSV exports."""

import csv
import html as html_lib
import io
import re

from retrieval.core.export import COLUMNS

STATE = re.compile(r'<div id="query-state"[^>]*>')
CARD_LINK = re.compile(r'<li class="result-card" data-rank="(\d+)">\s*<a class="thumb" href="([^"]+)"')


def query_state(html: str) -> dict:
    """The data attributes of the fragment's one ``#query-state`` element."""
    found = STATE.findall(html)
    assert len(found) == 1, f"expected one #query-state, found {len(found)}"
    attributes = dict(re.findall(r'data-([\w-]+)="([^"]*)"', found[0]))
    return {name: html_lib.unescape(value) for name, value in attributes.items()}


def result_links(html: str) -> list[str]:
    """Each result card's image page link, in rank order."""
    return [link for _, link in sorted(CARD_LINK.findall(html), key=lambda pair: int(pair[0]))]


def csv_rows(response) -> list[dict]:
    """A CSV response's rows, after checking its type, attachment and header."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="')
    text = response.content.decode()
    header = text.splitlines()[0].split(",")
    assert header[-len(COLUMNS):] == list(COLUMNS) and "rank" in header
    return list(csv.DictReader(io.StringIO(text)))
