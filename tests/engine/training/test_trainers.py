"""Every registered trainer, through the one interface the command line and the workers use:
its options, building its config from strings, a seconds-long run with a callback, and
cancellation. Parametrized over ``TRAINERS``, so a new family is tested when it registers."""

import dataclasses
import random
from random import Random

import numpy as np
import pytest

from retrieval.engine.errors import InvalidConfig
from retrieval.engine.options import config_options
from retrieval.engine.training.callbacks import Cancelled, TrainResult
from retrieval.engine.training.registry import TRAINERS, TrainContext, TrainerSpec, get_trainer
from tests.conftest import DATASET_MISSING, SKETCH_PAIRS, tiny_checkpoint
from tests.support.recorder import Recorder

FAMILIES = TRAINERS.names()


def context_for(spec: TrainerSpec, out_path) -> TrainContext:
    """The context the portal gives a family (its dataset folder, the serving descriptor),
    with the session's tiny descriptor and sketch pairs made first when the family needs them."""
    from retrieval.sketch.services import sketch_pairs_make
    from retrieval.training.services import train_context

    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    if spec.dataset == "sketch-pairs":
        tiny_checkpoint()
        sketch_pairs_make(limit=SKETCH_PAIRS)
    return train_context(spec, out_path)


def test_the_descriptor_family_is_registered():
    assert "descriptor" in FAMILIES
    spec = get_trainer("descriptor")
    assert spec.produces == "descriptor" and not spec.generative and spec.dataset == "fashion-mnist"


def test_unknown_family_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown trainer 'gan9000'.*descriptor"):
        get_trainer("gan9000")


@pytest.mark.parametrize("family", FAMILIES)
def test_spec_is_well_formed(family):
    spec = get_trainer(family)
    assert spec.name == family and spec.title and spec.description and callable(spec.run)
    assert dataclasses.is_dataclass(spec.config_cls) and spec.config_cls.__dataclass_params__.frozen
    options = config_options(spec.config_cls)  # every field has a supported type
    assert [o.name for o in options] == [f.name for f in dataclasses.fields(spec.config_cls)]
    assert all(set(o.choices) >= {o.default} for o in options if o.choices)
    defaults = spec.config_cls()
    assert spec.default_checkpoint_name(defaults).endswith(".pt")
    assert spec.build_config(spec.quick) == dataclasses.replace(defaults, **spec.quick)


@pytest.mark.parametrize("family", FAMILIES)
def test_config_round_trips_through_strings(family):
    spec = get_trainer(family)
    defaults = spec.config_cls()
    as_text = {o.name: "" if o.default is None else str(o.default) for o in config_options(spec.config_cls)}
    assert spec.build_config(as_text) == defaults
    assert spec.build_config(dataclasses.asdict(defaults)) == defaults  # and through JSON values


@pytest.mark.parametrize("family", FAMILIES)
def test_bad_strings_are_sentences_not_type_errors(family):
    spec = get_trainer(family)
    numeric = [o for o in config_options(spec.config_cls) if o.kind in (int, float)]
    with pytest.raises(InvalidConfig) as info:
        spec.build_config({o.name: "lots" for o in numeric} | {"no_such_option": 1})
    assert set(info.value.fields) == {o.name for o in numeric}
    assert all("'lots' is not" in info.value.fields[o.name][0] for o in numeric)
    assert any("unknown option 'no_such_option'" in m for m in info.value.messages)


@pytest.mark.parametrize("family", FAMILIES)
def test_quick_run_reports_through_the_callback_and_writes_a_checkpoint(family, tmp_path):
    spec = get_trainer(family)
    recorder = Recorder()
    out = tmp_path / "model.pt"
    random.seed(4321)  # a trainer shares its process with the server: it must not reseed the global generator
    result = spec.run(spec.build_config(spec.quick), context_for(spec, out), recorder)
    assert isinstance(result, TrainResult) and result.checkpoint == str(out) and out.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers
    epochs = spec.quick.get("epochs", 1)
    assert recorder.events[0] == "start" and recorder.events[-1] == "finish"
    assert recorder.events.count("epoch") == epochs and len(recorder.steps) == recorder.total_steps
    assert [s.step for s in recorder.steps] == list(range(1, recorder.total_steps + 1))
    assert all(s.losses and all(np.isfinite(v) for v in s.losses.values()) for s in recorder.steps)
    assert [e.epoch for e in recorder.epochs] == list(range(1, epochs + 1))
    assert result.metrics and result.history and result.device == recorder.device
    if spec.generative:
        assert recorder.samples, "a generative family shows samples while it trains"
    assert random.random() == Random(4321).random()


@pytest.mark.parametrize("family", FAMILIES)
def test_cancel_stops_at_the_next_step_and_writes_nothing(family, tmp_path):
    spec = get_trainer(family)
    recorder = Recorder(stop_after=1)
    with pytest.raises(Cancelled):
        spec.run(spec.build_config(spec.quick), context_for(spec, tmp_path / "m.pt"), recorder)
    assert len(recorder.steps) == 1 and "finish" not in recorder.events
    assert list(tmp_path.iterdir()) == []


def test_descriptor_runs_of_any_length_train(tmp_path):
    """OneCycleLR divided by zero when 20% of the steps made exactly one (a 5-step run)."""
    import torch

    spec = get_trainer("descriptor")
    for steps in (1, 5):
        config = spec.build_config({**spec.quick, "subset": 64 * steps - 10, "batch_size": 64})
        recorder = Recorder()
        result = spec.run(config, context_for(spec, tmp_path / f"{steps}.pt"), recorder)
        assert recorder.total_steps == steps and torch.load(result.checkpoint, weights_only=False)["config"] == config.to_dict()
