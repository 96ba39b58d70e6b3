"""What a websocket query streams after its first fragments: result cards, then a status.

Shared by every kind of query the search socket accepts (``consumers.QUERY_KINDS``): the
consumer drives a ``QueryStream`` card by card and drops it when a newer query arrives.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass
class QueryStream:
    """A started query: its explained hits as result cards, then a done status."""

    items: Iterator  # core.results.ResultItem, in rank order, explained lazily
    card: Callable[[object], str]  # one item's fragment
    done: Callable[[int], str]  # the closing status, given how many cards were shown

    def next_card(self) -> str | None:
        item = next(self.items, None)
        return None if item is None else self.card(item)


def result_card(item, *, example=None) -> str:
    """One result card, appended to ``#result-grid`` (``example``: a labelled query's image)."""
    return render_to_string("retrieval/_result_card.html", {"item": item, "example": example, "oob": True})


def errors_fragment(messages: list[str]) -> str:
    return render_to_string("retrieval/_errors.html", {"messages": messages, "oob": True})
