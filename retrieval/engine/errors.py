"""Specific exceptions the engine raises; the web layer maps each to a message and a 4xx."""


class EngineError(Exception):
    """Base class: ``str(error)`` is a sentence fit to show a user."""


class InvalidImage(EngineError):
    """The bytes are not a decodable image (empty, corrupt, truncated, unknown format)."""


class UnsupportedImage(InvalidImage):
    """A recognised format the portal does not accept (SVG)."""


class ImageTooLarge(InvalidImage):
    """Too many pixels to decode safely (a decompression bomb or simply too big)."""


class IndexMismatch(EngineError):
    """An index was built by a different checkpoint than the descriptor it is paired with."""


class NotReady(EngineError):
    """The engine has no descriptor or index loaded for the requested gallery yet."""
