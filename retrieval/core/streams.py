"""The websocket side of every query kind: a message becomes the first fragments (the results
header, with the query's link state) and a ``QueryStream`` of result cards, then a status.

``start_query`` is each kind's ``start`` (``core.kinds``); the consumer drives the stream card
by card and drops it when a newer query arrives.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.template.loader import render_to_string

from retrieval.core import query_store
from retrieval.core.errors import user_error
from retrieval.core.forms import form_messages
from retrieval.core.links import EMPTY_STATE, linked_example, linked_image, own_image, query_state
from retrieval.engine.errors import EngineError

NOT_FIELDS = ("type", "image", "q")  # message keys that are not form fields


@dataclass
class QueryStream:
    """A started query: its explained hits as result cards, then a done status."""

    items: Iterator  # core.results.ResultItem (or what the kind's card takes), in rank order, explained lazily
    card: Callable[[object], str]  # one item's fragment
    done: Callable[[int], str]  # the closing status, given how many cards were shown

    def next_card(self) -> str | None:
        item = next(self.items, None)
        return None if item is None else self.card(item)


def start_query(kind, message: dict) -> tuple[str, QueryStream | None]:
    """Validate and start a {"type": kind.name, "image": data URL, ...fields} message. Instead of
    ``image``, ``q`` names a stored query and ``example`` alone a gallery image, as in a link."""
    linked = None
    if not message.get("image") and (message.get("q") or message.get("example")):
        linked = linked_image(message)
        if linked.data is None:
            return errors_fragment([linked.problem]), None
    data = {key: value for key, value in message.items() if key not in NOT_FIELDS and value is not None}
    form = kind.form(data | {"image_data": message.get("image") or ""}, image_bytes=linked and linked.data)
    if not form.is_valid():
        return errors_fragment(form_messages(form)), None
    cleaned = form.cleaned_data
    example = linked_example(message.get("example"), cleaned["gallery"])
    try:
        context, stream = kind.stream(cleaned, example)
    except EngineError as error:  # the results of an earlier query would mislead: clear them
        context = kind.results(form, None, None) | {"error_messages": [user_error(error).message],
                                                     "query_state": EMPTY_STATE, "oob": True}
        return render_to_string(kind.results_template, context), None
    from_bytes = own_image(form) or bool(linked and linked.stored)
    stored = query_store.query_store(cleaned["image_bytes"]) if from_bytes else None
    state = query_state(kind, cleaned, stored=stored, example=example)
    html = render_to_string(kind.results_template, context | {"query_state": state, "error_messages": [],
                                                               "oob": True})
    return html, stream


def result_card(item, *, example=None) -> str:
    """One result card, appended to ``#result-grid`` (``example``: a labelled query's image)."""
    return render_to_string("retrieval/_result_card.html", {"item": item, "example": example, "oob": True})


def errors_fragment(messages: list[str]) -> str:
    return render_to_string("retrieval/_errors.html", {"messages": messages, "oob": True})
