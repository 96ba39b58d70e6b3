"""Tiny degraded-query models for the web and browser tests: both enhancers and the robust
descriptor, trained for a few steps by the real trainers into the test checkpoint folder
(once per session), and the robust descriptor's index of the tiny gallery."""

from retrieval.engine.training.callbacks import TrainingCallback
from tests.conftest import tiny_checkpoint


def tiny_degraded_models():
    from retrieval.degraded.services import enhancer_checkpoint_paths, robust_checkpoint_path
    from retrieval.engine.training.registry import get_trainer
    from retrieval.training.services import train_context

    tiny_checkpoint()  # the robust descriptor fine-tunes it
    outputs = {**enhancer_checkpoint_paths(), "robust_descriptor": robust_checkpoint_path()}
    for family, out in (("denoiser", outputs["denoiser"]), ("restorer", outputs["restorer"]),
                        ("robust_descriptor", outputs["robust_descriptor"])):
        if not out.exists():
            spec = get_trainer(family)
            overrides = {"fine_tune": True} if family == "robust_descriptor" else {}
            spec.run(spec.build_config({**spec.quick, **overrides}), train_context(spec, out), TrainingCallback())


def degraded_ready(gallery):
    """Models trained and the tiny gallery indexed by the robust descriptor."""
    from retrieval.degraded.services import robust_index_rebuild

    tiny_degraded_models()
    robust_index_rebuild(gallery=gallery)
    return gallery

