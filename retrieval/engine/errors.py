"""Specific exceptions the engine raises; the web layer maps each to a message and a 4xx."""


class EngineError(Exception):
    """Base class: ``str(error)`` is a sentence fit to show a user."""


class InvalidImage(EngineError):
    """The bytes are not a decodable image (empty, corrupt, truncated, unknown format)."""


class UnsupportedImage(InvalidImage):
    """A recognised format the portal does not accept (SVG)."""


class BlankSketch(InvalidImage):
    """A sketch with nothing (readable) drawn on it."""


class ImageTooLarge(InvalidImage):
    """Too many pixels to decode safely (a decompression bomb or simply too big)."""


class IndexMismatch(EngineError):
    """An index was built by a different checkpoint than the descriptor it is paired with."""


class NotReady(EngineError):
    """The engine has no descriptor or index loaded for the requested gallery yet."""


class InvalidConfig(EngineError, ValueError):
    """A training configuration that cannot run. ``messages`` lists every problem as a
    sentence; ``fields`` holds those that belong to one option (keyed by its name)."""

    def __init__(self, messages: list[str], fields: dict[str, list[str]] | None = None):
        super().__init__("; ".join(messages))
        self.messages = list(messages)
        self.fields = dict(fields or {})
