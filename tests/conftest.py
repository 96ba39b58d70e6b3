"""Shared fixtures: a tiny descriptor trained by the real trainer, and a small Fashion-MNIST
gallery imported and indexed by the real services, once per test session."""

import base64
import io
import shutil

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from retrieval.engine.training.callbacks import TrainingCallback

TINY_GALLERY = 300  # images per split
DATASET_MISSING = not (settings.RETRIEVAL["FASHION_MNIST_DIR"] / "train-labels-idx1-ubyte.gz").exists()


def tiny_checkpoint():
    """Train (once per session) the smallest real descriptor: 1 epoch on 600 images."""
    from retrieval.core.runtime import default_checkpoint_path
    from retrieval.engine.config import DescriptorTrainConfig
    from retrieval.training.services import descriptor_train

    path = default_checkpoint_path()
    if not path.exists():
        config = DescriptorTrainConfig(epochs=1, batch_size=64, subset=600, eval_queries=100, seed=0)
        descriptor_train(config=config, out_path=path)
    return path


SKETCH_PAIRS = 120  # images per split with edge maps (HED takes ~20 ms an image here)


def tiny_sketch_models():
    """Make (once per session) tiny sketch pairs and train the sketch GAN and encoder for a few
    steps with the real trainers, into the test checkpoint folder: every sketch mode can run."""
    from retrieval.engine.training.registry import get_trainer
    from retrieval.sketch.services import sketch_checkpoint_paths, sketch_pairs_make
    from retrieval.training.services import train_context

    sketch_pairs_make(limit=SKETCH_PAIRS)
    for family, path in (("sketch_gan", "generator"), ("sketch_encoder", "encoder")):
        out = sketch_checkpoint_paths()[path]
        if not out.exists():
            spec = get_trainer(family)
            spec.run(spec.build_config({**spec.quick, "seed": 0}), train_context(spec, out), TrainingCallback())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Import and index the tiny gallery into the test database once; tests roll back to it."""
    if DATASET_MISSING:
        return
    from retrieval.engine.runtime import reset_runtime
    from retrieval.galleries.services import gallery_import_fashion_mnist, index_rebuild

    reset_runtime()
    with django_db_blocker.unblock():
        tiny_checkpoint()
        tiny_sketch_models()
        gallery = gallery_import_fashion_mnist(folder=settings.RETRIEVAL["FASHION_MNIST_DIR"], limit=TINY_GALLERY)
        index_rebuild(gallery=gallery)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(settings.TEST_VAR, ignore_errors=True)


@pytest.fixture
def gallery(db):
    if DATASET_MISSING:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    from retrieval.models import Gallery

    return Gallery.objects.get(slug="fashion-mnist")


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.fixture
def query_png(gallery) -> bytes:
    """A real Fashion-MNIST test image (the first query), as PNG bytes."""
    image = gallery.images.filter(split="test").order_by("source_index").first()
    with image.file.open("rb") as f:
        return f.read()
