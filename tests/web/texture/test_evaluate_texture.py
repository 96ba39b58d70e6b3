"""`manage.py evaluate texture --json` on a tiny subset, with checkpoints the two training
families make in seconds (their quick configurations)."""

import json
from io import StringIO
from pathlib import Path

import pytest
import torch
from django.core.management import CommandError, call_command

from retrieval.engine.texture.codes import load_hasher
from retrieval.engine.texture.patterns import GIMP_PATTERNS
from retrieval.engine.training.callbacks import TrainingCallback
from retrieval.engine.training.registry import TrainContext, get_trainer

pytestmark = pytest.mark.skipif(not GIMP_PATTERNS.is_dir(), reason="gimp-data patterns are not installed")

VARIANTS = {"tsn_dsdh": {}, "tsn_dpsh": {"loss": "dpsh"}, "dsdh": {"trunk": "plain", "augment": False},
            "tsn_dsdh_no_attention": {"attention": False}, "tsn_dsdh_no_augmentation": {"augment": False}}


class Samples(TrainingCallback):
    def __init__(self):
        self.grids = []

    def on_samples(self, *, step, images):
        self.grids.append(images)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("texture-checkpoints")
    tsn = get_trainer("texture_tsn")
    samples = Samples()
    tsn.run(tsn.build_config(dict(tsn.quick)), TrainContext(GIMP_PATTERNS, folder / "texture-tsn.pt"), samples)
    assert samples.grids and samples.grids[0].shape[1:] == (64, 64, 3)  # the expansions, streamed as samples
    spec = get_trainer("texture_hash")
    for variant, values in VARIANTS.items():
        config = spec.build_config({**spec.quick, "bits": "32,64", **values})
        assert config.variant == variant
        spec.run(config, TrainContext(GIMP_PATTERNS, folder / spec.default_checkpoint_name(config)), TrainingCallback())
    return folder


def test_hasher_loads_and_codes(checkpoints):
    hasher = load_hasher(checkpoints / "texture-hash-tsn_dsdh.pt")
    codes = hasher.codes(torch.randint(0, 256, (3, 32, 32, 3), dtype=torch.uint8).numpy())
    assert {b: c.shape for b, c in codes.items()} == {32: (3, 4), 64: (3, 8)}


def test_evaluate_texture_json_on_a_tiny_subset(checkpoints):
    out = StringIO()
    call_command("evaluate", "texture", "--json", "--textures", "4", "--checkpoints", str(checkpoints),
                 "--synthetic", "2000", stdout=out)
    report = json.loads(out.getvalue())
    assert report["protocol"]["classes"] == 4 and report["queries"] == 4 * 9 and report["database"] == 4 * 16
    assert set(report["methods"]) == {"tsn_dsdh", "tsn_dpsh", "dsdh", "lbp_lsh"}
    for method in ("tsn_dsdh", "tsn_dpsh", "dsdh"):
        assert set(report["methods"][method]["mAP"]) == {"32", "64"}
    assert set(report["methods"]["lbp_lsh"]["mAP"]) == {"32", "64", "128", "256"}
    for r in report["methods"].values():
        assert all(0 < v <= 1 for v in r["mAP"].values())
        assert r["query_ms"] > 0 and "64" in r["precision_r2"]
    assert set(report["ablation"]) == {"no_attention", "no_augmentation"}
    assert "64" in report["ablation"]["no_attention"]["mAP"]
    assert report["synthetic"]["codes"] == 2000 and not report["missing"]
    assert isinstance(report["target"]["met"], bool)


def test_missing_checkpoints_are_named(tmp_path):
    out = StringIO()
    call_command("evaluate", "texture", "--textures", "3", "--checkpoints", str(tmp_path), "--synthetic", "0", stdout=out)
    assert "missing checkpoints: texture-hash-tsn_dsdh.pt" in out.getvalue()


def test_validation_protocol_reads_only_validation_checkpoints(checkpoints, tmp_path):
    spec = get_trainer("texture_hash")
    config = spec.build_config({**spec.quick, "bits": "32,64", "validation": True, "dihedral": True, "jitter": 0.05})
    name = spec.default_checkpoint_name(config)
    assert name == "texture-hash-tsn_dsdh-validation.pt"
    (tmp_path / "texture-tsn.pt").symlink_to(checkpoints / "texture-tsn.pt")
    spec.run(config, TrainContext(GIMP_PATTERNS, tmp_path / name), TrainingCallback())
    assert load_hasher(tmp_path / name).record["validation"] is True
    out = StringIO()
    call_command("evaluate", "texture", "--json", "--validation", "--textures", "4", "--checkpoints", str(tmp_path),
                 "--synthetic", "0", stdout=out)
    report = json.loads(out.getvalue())
    assert report["split"] == "validation" and report["queries"] == 4 * 9 and report["database"] == 4 * 16
    assert set(report["methods"]) == {"tsn_dsdh", "lbp_lsh"}
    assert "texture-hash-dsdh-validation.pt" in report["missing"]
    # a checkpoint whose training crops cover the other protocol's queries is refused
    (tmp_path / "texture-hash-tsn_dsdh.pt").symlink_to(tmp_path / name)
    with pytest.raises(CommandError, match="validation protocol"):
        call_command("evaluate", "texture", "--textures", "4", "--checkpoints", str(tmp_path), "--synthetic", "0",
                     stdout=StringIO())
    other = tmp_path / "other"
    other.mkdir()
    (other / name).symlink_to(checkpoints / "texture-hash-tsn_dsdh.pt")
    with pytest.raises(CommandError, match="test protocol"):
        call_command("evaluate", "texture", "--validation", "--textures", "4", "--checkpoints", str(other),
                     "--synthetic", "0", stdout=StringIO())
