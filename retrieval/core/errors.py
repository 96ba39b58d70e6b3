"""The one place engine errors become user messages and HTTP status codes."""

from dataclasses import dataclass

from retrieval.core.admission import Busy
from retrieval.engine.errors import (
    BlankSketch,
    EngineError,
    ImageTooLarge,
    IndexMismatch,
    InvalidImage,
    NotReady,
    UnsupportedImage,
)


@dataclass(frozen=True)
class UserError:
    status: int
    code: str
    message: str


_STATUS = [  # most specific first
    (ImageTooLarge, 413, "image_too_large"),
    (UnsupportedImage, 415, "unsupported_image"),
    (BlankSketch, 400, "blank_sketch"),
    (InvalidImage, 400, "invalid_image"),
    (Busy, 503, "busy"),  # the admission lanes are full: retry shortly
    (NotReady, 503, "not_ready"),
    (IndexMismatch, 503, "index_mismatch"),
]


def user_error(error: EngineError) -> UserError:
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return UserError(status, code, str(error))
    return UserError(400, "invalid_request", str(error))
