"""Start-up: the server process loads the engine once, before the first request."""

import pytest
import torch

pytestmark = pytest.mark.django_db


def test_warm_runtime_loads_the_default_gallery_and_sets_server_threads(gallery, settings):
    from retrieval.core.runtime import engine, warm_runtime

    threads = torch.get_num_threads()
    try:
        warm_runtime()
        assert engine().has(gallery.slug)
        assert torch.get_num_threads() == settings.RETRIEVAL["SERVER_THREADS"]
    finally:
        torch.set_num_threads(threads)


def test_warm_runtime_without_an_index_logs_and_carries_on(settings, tmp_path, caplog):
    from retrieval.core.runtime import warm_runtime
    from retrieval.engine.runtime import reset_runtime

    threads = torch.get_num_threads()
    settings.RETRIEVAL = {**settings.RETRIEVAL, "DEFAULT_GALLERY": "no-such-gallery", "INDEX_DIR": tmp_path}
    try:
        warm_runtime()
        assert "engine not warmed" in caplog.text
    finally:
        torch.set_num_threads(threads)
        reset_runtime()


def test_start_up_objects_are_frozen_for_the_cycle_collector_and_new_cycles_still_collected():
    import gc
    import weakref

    from portal.startup import freeze_long_lived_objects

    try:
        freeze_long_lived_objects()
        assert gc.get_freeze_count() > 1000

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle made after the freeze, like a request's form
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
