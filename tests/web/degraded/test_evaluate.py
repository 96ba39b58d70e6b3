"""`manage.py evaluate degraded` on a small subset, with the tiny models of the test session."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import DATASET_MISSING
from tests.support.degraded import tiny_degraded_models

needs_dataset = pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (dataset-fashion-mnist)")
SMALL = ("--queries", "40", "--gallery-size", "100", "--map-queries", "20")
CONDITIONS = ("gaussian", "salt_pepper", "speckle", "motion_blur", "low_resolution_2x", "low_resolution_4x", "jpeg")


def evaluate(*args: str) -> str:
    out = StringIO()
    call_command("evaluate", "degraded", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def report() -> dict:
    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed")
    tiny_degraded_models()
    return json.loads(evaluate("--json", *SMALL))


@needs_dataset
def test_every_condition_is_measured_degraded_and_enhanced_for_both_descriptors_and_metrics(report):
    assert report["task"] == "degraded" and report["queries"] == 40 and report["gallery"] == 100
    assert report["map_queries"] == 20 and set(report["conditions"]) == set(CONDITIONS)
    assert {report["conditions"][c]["enhancer"] for c in CONDITIONS} == {"denoiser", "restorer"}
    for mode in ("standard", "robust"):
        for metric in ("l2", "cosine"):
            rows = report["results"][mode][metric]
            assert set(rows) == {"ideal", *CONDITIONS, *(f"{c}_enhanced" for c in CONDITIONS)}
            for row in rows.values():
                assert 0 <= row["top1"] <= row["top5"] <= row["top10"] <= 1 and 0 <= row["mAP"] <= 1


@needs_dataset
def test_targets_are_judged_per_metric_with_every_ratio_listed(report):
    targets = report["targets"]
    assert targets["enhanced_vs_ideal"] == 0.95 and targets["robust_degraded_vs_ideal"] == 0.85
    for metric in ("l2", "cosine"):
        t = targets[metric]
        ideal = max(report["results"][m][metric]["ideal"]["top1"] for m in ("standard", "robust"))
        assert t["ideal_top1"] == ideal and set(t["enhanced"]) == set(CONDITIONS)
        expected = report["results"]["standard"][metric]["gaussian_enhanced"]["top1"] / ideal
        assert t["enhanced"]["gaussian"] == pytest.approx(expected, abs=1e-4)
        assert t["enhanced_met"] == all(r >= 0.95 for r in t["enhanced"].values())
    assert report["paper"]["ideal"] == [89.42, 91.82, 92.32] and report["paper"]["noisy_enhanced"][0] == 55.38


@needs_dataset
def test_degraded_queries_are_deterministic(report):
    again = json.loads(evaluate("--json", *SMALL, "--condition", "gaussian", "--condition", "motion_blur",
                                "--metric", "cosine"))
    for name in ("ideal", "gaussian", "gaussian_enhanced", "motion_blur"):
        assert again["results"]["standard"]["cosine"][name] == report["results"]["standard"]["cosine"][name]
    assert set(again["conditions"]) == {"gaussian", "motion_blur"} and "l2" not in again["results"]["standard"]


@needs_dataset
def test_the_table_prints_the_papers_figures_and_the_verdicts(report):
    table = evaluate(*SMALL, "--condition", "low_resolution_2x", "--metric", "l2")
    assert "40 test queries against 100 gallery images" in table
    assert "paper (smallNORB, L2)" in table and "79.47 / 84.14 / 84.94" in table and "81.01 / 85.37 / 86.35" in table
    assert "enhanced top-1 >= 95% of ideal" in table and "robust degraded top-1 >= 85% of ideal" in table


@needs_dataset
def test_a_missing_robust_descriptor_is_reported_not_fatal(tmp_path):
    tiny_degraded_models()
    report = json.loads(evaluate("--json", *SMALL, "--condition", "jpeg", "--robust-checkpoint", str(tmp_path / "no.pt")))
    assert "unavailable" in report["descriptors"]["robust"] and "robust" not in report["results"]
    assert report["targets"]["cosine"]["robust_degraded"] == {"jpeg": None}
    assert report["targets"]["cosine"]["robust_degraded_met"] is False


@needs_dataset
def test_bad_options_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="No descriptor checkpoint"):
        evaluate("--checkpoint", str(tmp_path / "absent.pt"), *SMALL)
    with pytest.raises(CommandError, match="at least 10"):
        evaluate("--gallery-size", "5")


def test_a_query_is_degraded_the_same_way_whatever_the_number_of_queries():
    import numpy as np

    from retrieval.degraded.evaluation import degrade_each

    images = np.random.default_rng(0).random((30, 28, 28)).astype(np.float32)
    for degradation in ("salt_pepper", "motion_blur"):
        assert np.array_equal(degrade_each(images, degradation, {}, 5)[:10], degrade_each(images[:10], degradation, {}, 5))
        assert not np.array_equal(degrade_each(images, degradation, {}, 5), degrade_each(images, degradation, {}, 6))
