"""What `setup_demo` is doing now, for pages that need a gallery it has not finished yet.

`make run` builds only what the search page needs before serving; `setup_demo` then imports
and indexes the other demo galleries (the colour stamps, the textures) in a process of its own
beside the server. While it runs it keeps ``var/setup-demo.json`` current (its pid, the step,
when it started), so a page can say "being prepared, ready in a minute" rather than "run make
setup". A file whose process is gone (a killed set-up) reads as no set-up at all.
"""

import json
import os
import time
from pathlib import Path

from django.conf import settings

from retrieval.engine.errors import NotReady
from retrieval.engine.fileio import atomic_write_json


def state_path() -> Path:
    return Path(settings.VAR_DIR) / "setup-demo.json"


def record_step(step: str, pending: list[str]) -> None:
    """Now doing ``step``; the galleries in ``pending`` (slugs) are not complete yet."""
    state = current() or {"pid": os.getpid(), "started": time.time()}
    atomic_write_json(state_path(), {**state, "step": step, "pending": pending})


def finished() -> None:
    state_path().unlink(missing_ok=True)


def current() -> dict | None:
    """The running set-up's {pid, started, step}, or None."""
    try:
        state = json.loads(state_path().read_text())
        os.kill(int(state["pid"]), 0)  # signal 0: is it alive?
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def preparing(slug: str) -> bool:
    """Another process's running set-up has not finished this gallery yet (its rows or indexes
    may be partial); the set-up itself goes on reading what it is preparing."""
    state = current()
    return state is not None and state["pid"] != os.getpid() and slug in state.get("pending", ())


def not_ready_message(what: str) -> str:
    """Why ``what`` (e.g. "The texture gallery") is missing, and what to do about it."""
    state = current()
    if state is None:
        return f"{what} is not imported yet: run `make setup`."
    minutes = max(0, int(time.time() - float(state.get("started", time.time())))) // 60
    return (f"{what} is being prepared in the background ({state.get('step', 'setting up')}, "
            f"started {minutes} min ago): reload in a minute.")


def require_prepared(gallery, slug: str, what: str):
    """``gallery`` (the row for ``slug``, or None), once it is there and no set-up is still
    preparing it; else NotReady saying which."""
    if gallery is None or preparing(slug):
        raise NotReady(not_ready_message(what))
    return gallery
