"""`manage.py evaluate lab` on tiny galleries: a colour folder gallery and the greyscale Fashion-MNIST one."""

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from retrieval.engine.lab.index import LabIndex
from retrieval.lab.services import lab_index_path

KEYS = {"histogram_distance", "P@10", "mAP", "ms_per_image"}


def _evaluate(*args) -> dict:
    out = io.StringIO()
    call_command("evaluate", "lab", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.slow
def test_evaluate_lab_reports_every_descriptor_and_stores_their_indexes(colour_gallery):
    report = _evaluate("--gallery", "tiny-colour")
    assert set(report["descriptors"]) == {"gap", "conv", "fc", "fc_conv", "hist"}  # no trained descriptor here
    for measures in report["descriptors"].values():
        assert set(measures) >= KEYS and 0 <= measures["P@10"] <= 1 and measures["histogram_distance"] >= 0
    assert report["images"] == 16 and report["histograms"].startswith("RGB")
    assert {"ratio", "met"} <= set(report["target"])
    assert set(report["variants"]) == {"fc_conv_raw", "fc_conv_two_parts", "fc_conv_parts_of_layers", "conv_layers"}
    assert report["variants"]["fc_conv_raw"]["dim"] == report["descriptors"]["fc_conv"]["dim"] == 2280 + 1472
    for name in ("gap", "conv", "fc", "fc_conv", "hist"):
        assert lab_index_path("tiny-colour", "efficientnet_lite0", name).exists()
    fc_conv = LabIndex.load(lab_index_path("tiny-colour", "efficientnet_lite0", "fc_conv"))
    assert len(fc_conv.meta["layers"]) == len(fc_conv.meta["layer_weights"]) == 7  # head, logits, five stages
    parts = [LabIndex.load(lab_index_path("tiny-colour", "efficientnet_lite0", n)).vectors for n in ("fc", "conv")]
    raw = np.concatenate(parts, axis=1)
    hits = fc_conv.search(raw[:3], 1)  # a raw query is weighed as the gallery was: each image finds itself
    np.testing.assert_array_equal(hits.ids[:, 0], fc_conv.ids[:3])
    # a second run reuses the stored indexes (same rows, same weights) and measures the same
    assert _evaluate("--gallery", "tiny-colour")["descriptors"] == report["descriptors"]


@pytest.mark.slow
def test_evaluate_lab_on_fashion_mnist_uses_intensity_histograms_and_the_trained_descriptor(gallery):
    report = _evaluate("--gallery", "fashion-mnist", "--limit", "30", "--metric", "cosine")
    assert report["histograms"].startswith("intensity") and report["images"] == 30
    assert "trained" in report["descriptors"] and set(report["descriptors"]["trained"]) >= KEYS
    assert not lab_index_path("fashion-mnist", "efficientnet_lite0", "gap").exists()  # a partial gallery is not stored


def test_evaluate_lab_refuses_an_unknown_gallery_and_a_too_small_one(db, colour_gallery):
    with pytest.raises(CommandError, match="no gallery"):
        _evaluate("--gallery", "nope")
    with pytest.raises(CommandError, match="needs more than 10"):
        _evaluate("--gallery", "tiny-colour", "--limit", "5")
