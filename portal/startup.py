"""What a server process does when it starts, in the background thread ``portal.asgi`` runs.

Before Django serves: remove the temporary files of interrupted atomic writes, mark training
runs a dead process left running as interrupted (and resume the queue), and flag the engine
as warming. After: load the models (queries answer "warming up" until then), then build the
indexes that search does not need at once (the degraded page's robust index), logging their
progress (``retrieval.galleries.services.background_index_status``).
"""

import logging
import time

from django.conf import settings
from django.db import connection

log = logging.getLogger("portal.startup")
STALE_UNNAMED_TEMP_S = 3600  # temp files of an earlier naming scheme: removed once this old


def before_serving() -> None:
    from retrieval.core import runtime
    from retrieval.training.worker import server_started

    remove_stale_temp_files()
    server_started()  # reads the database: here, not in AppConfig.ready()
    if settings.RETRIEVAL["WARM_AT_STARTUP"]:
        runtime.begin_warming()


def after_serving() -> None:
    from retrieval.core.admission import tune_allocator
    from retrieval.core.runtime import warm_runtime
    from retrieval.degraded.services import robust_checkpoint_path
    from retrieval.galleries.services import build_background_indexes
    from retrieval.photo.services import photo_checkpoint_path

    tune_allocator()
    if not settings.RETRIEVAL["WARM_AT_STARTUP"]:
        return
    warm_runtime()
    freeze_long_lived_objects()
    if not settings.RETRIEVAL["BACKGROUND_INDEXES"]:
        return
    try:
        build_background_indexes(checkpoints=[robust_checkpoint_path(), photo_checkpoint_path()])
    finally:
        connection.close()  # this thread's own connection



def freeze_long_lived_objects() -> None:
    """Keep what start-up made (Django, torch, the models: some 200,000 objects) out of the
    cycle collector's full passes from now on (``gc.freeze``). Otherwise every full pass walks
    them all, pausing the process for tens to hundreds of milliseconds: the tail of the search
    latency under load. Requests' own cycles are still collected."""
    import gc

    gc.collect()
    gc.freeze()
    log.info("start-up objects frozen for the cycle collector: %d", gc.get_freeze_count())


def remove_stale_temp_files() -> int:
    from retrieval.engine.fileio import remove_stale_temps

    started, removed = time.perf_counter(), []
    folders = {settings.VAR_DIR, settings.MEDIA_ROOT, settings.RETRIEVAL["CHECKPOINT_DIR"],
               settings.RETRIEVAL["INDEX_DIR"], settings.RETRIEVAL["RUNS_DIR"]}
    for folder in sorted(str(f) for f in folders):
        removed += remove_stale_temps(folder, recursive=True, unnamed_older_than_s=STALE_UNNAMED_TEMP_S)
    if removed:
        log.warning("removed %d temporary file(s) left by interrupted writes in %.1f s: %s", len(removed),
                    time.perf_counter() - started, ", ".join(str(path) for path in removed[:5]))
    return len(removed)
