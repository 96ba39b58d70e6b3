"""`manage.py evaluate photo` on a small subset with a tiny photo descriptor, and the unsure
signal calibrated on the tiny gallery's index."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from retrieval.engine.photo.backgrounds import HELD_OUT_KINDS, KINDS
from retrieval.engine.training.callbacks import TrainingCallback
from tests.conftest import DATASET_MISSING, tiny_checkpoint

needs_dataset = pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)")
SMALL = ("--queries", "27", "--gallery-size", "120", "--map-queries", "18", "--no-progress")


def tiny_photo_descriptor():
    from retrieval.engine.training.registry import get_trainer
    from retrieval.photo.services import photo_checkpoint_path
    from retrieval.training.services import train_context

    tiny_checkpoint()
    out = photo_checkpoint_path()
    if not out.exists():
        spec = get_trainer("photo_descriptor")
        spec.run(spec.build_config({**spec.quick, "fine_tune": True}), train_context(spec, out), TrainingCallback())
    return out


def evaluate(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", "photo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def report() -> dict:
    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed")
    tiny_photo_descriptor()
    return json.loads(evaluate("--json", *SMALL))


@needs_dataset
def test_three_pipelines_overall_per_kind_held_out_and_clean(report):
    assert report["task"] == "photo" and report["queries"] == 27 and report["gallery"] == 120
    assert set(report["results"]) == {"old", "normalised", "photo"} and report["serving"] == "photo"
    assert report["held_out_kinds"] == list(HELD_OUT_KINDS)
    for result in report["results"].values():
        assert set(result["by_kind"]) == set(KINDS)
        for row in (result["photos"], result["held_out"], result["clean"], *result["by_kind"].values()):
            assert set(row) - {"served_by_standard"} == {"P@5", "P@10", "top5_accuracy", "mAP", "queries"}
            assert all(0 <= row[key] <= 1 for key in ("P@5", "P@10", "top5_accuracy", "mAP"))
        assert result["held_out"]["queries"] == 12 and result["clean"]["queries"] == 27
    assert report["held_out"] == report["results"]["photo"]["held_out"]
    assert report["clean"]["P@5"] == report["results"]["photo"]["clean"]["P@5"]
    # Photo mode serves queries already in the gallery's style (every clean test image) by the
    # standard descriptor: its clean figures are the standard one's; the photo descriptor's own beside them.
    assert report["clean"]["served_by_standard"] == 1.0
    assert report["clean"]["P@5"] == report["results"]["normalised"]["clean"]["P@5"]
    assert set(report["results"]["photo"]["clean_photo_descriptor"]) == {"P@5", "P@10", "top5_accuracy", "mAP",
                                                                        "queries"}
    assert set(report["targets"]) == {"held_out.P@5", "clean.P@5"}
    assert report["unsure"]["calibration"]["threshold"] > 0


@needs_dataset
def test_the_table_and_bad_options():
    tiny_photo_descriptor()
    table = evaluate(*SMALL)
    assert "held out" in table and "held_out.P@5 >= 0.8" in table
    with pytest.raises(CommandError, match="gallery-size must be at least 10"):
        evaluate("--gallery-size", "5", "--no-progress")


@needs_dataset
@pytest.mark.django_db
def test_unsure_flags_a_query_far_from_the_gallery_and_not_a_gallery_image(gallery):
    from retrieval.core.runtime import serving_pair
    from retrieval.photo.services import query_unsure, unsure_calibration

    pair = serving_pair(gallery.slug)
    calibration = unsure_calibration(pair, "cosine")
    assert calibration.threshold > 0 and calibration.queries == 10000
    assert unsure_calibration(pair, "cosine") == calibration  # stored beside the index, read back
    test_image = gallery.images.filter(split="test").order_by("source_index").first()
    view = pair.descriptor.view(Image.open(test_image.file.path))
    nearest = pair.index.search(pair.descriptor.describe_arrays(np.asarray(view.image)[None]), 1, "cosine")
    assert not query_unsure(pair=pair, view=view, nearest_distance=nearest.distances[0, 0], metric="cosine").unsure
    far = query_unsure(pair=pair, view=view, nearest_distance=10 * calibration.threshold, metric="cosine")
    assert far.unsure and far.score > 1
    blank = pair.descriptor.view(Image.new("RGB", (80, 60), (120, 130, 140)))
    assert query_unsure(pair=pair, view=blank, nearest_distance=0.0, metric="cosine").unsure
