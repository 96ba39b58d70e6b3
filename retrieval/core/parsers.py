"""JSON that cannot hurt the server: nesting depth checked before anything parses it.

Python's json parser recurses once per nesting level, so 5,000 levels of ``[`` (10 KB) is a
RecursionError, a 500 and a debug page. ``json_depth`` measures the nesting of a document
without parsing it (strings blanked by one regular expression, then a running count of
brackets), in time linear in its size; ``SafeJSONParser`` (DRF) and
``portal.middleware.JsonBodyGuardMiddleware`` (every JSON request body) and the search
websocket refuse documents deeper than ``settings.PORTAL_MAX_JSON_DEPTH`` with a clear 400.
"""

import json
import re

import numpy as np
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string: quote, runs of ordinary characters and escapes, quote (the "unrolled loop"
# form, which never backtracks). An unterminated string runs to the end of the document.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|$)', re.DOTALL)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def json_depth(document: bytes | str) -> int:
    """The deepest nesting of arrays and objects in a JSON document (0 for a scalar)."""
    if isinstance(document, str):
        document = document.encode("utf-8", "surrogatepass")
    structure = np.frombuffer(_STRING.sub(b'""', document), np.uint8)
    if structure.size == 0:
        return 0
    steps = np.isin(structure, _OPEN).astype(np.int32) - np.isin(structure, _CLOSE).astype(np.int32)
    return int(max(np.cumsum(steps).max(), 0))


def max_depth() -> int:
    return settings.PORTAL_MAX_JSON_DEPTH


def depth_problem(document: bytes | str) -> str | None:
    """The sentence to answer with when ``document`` is nested too deeply, else None."""
    depth = json_depth(document)
    if depth > max_depth():
        return f"The JSON is nested {depth} levels deep; the limit is {max_depth()}."
    return None


def loads(document: bytes | str):
    """``json.loads`` with the depth limit; ValueError (a sentence) for any bad document."""
    problem = depth_problem(document)
    if problem:
        raise ValueError(problem)
    try:
        return json.loads(document)
    except RecursionError:  # only reachable with a depth limit near the interpreter's own
        raise ValueError("The JSON is nested too deeply.") from None
    except UnicodeDecodeError:
        raise ValueError("The JSON is not valid UTF-8.") from None
    except ValueError as error:
        raise ValueError(f"The JSON is malformed: {error}.") from None


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with the depth limit: a too-deep or malformed body is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return loads(data or b"null")
        except ValueError as error:
            raise ParseError(str(error)) from None
