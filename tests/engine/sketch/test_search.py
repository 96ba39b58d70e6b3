"""The sketch query: normalising a drawing, the three retrieval modes, and the GAN's training step."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from retrieval.engine.descriptors.cnn import CNNDescriptor
from retrieval.engine.errors import BlankSketch, NotReady
from retrieval.engine.images import decode_image, encode_png
from retrieval.engine.index import VectorIndex
from retrieval.engine.nets import create_net
from retrieval.engine.runtime import SearchPair
from retrieval.engine.sketch.pix2pix import PatchDiscriminator, UNetGenerator
from retrieval.engine.sketch.search import (
    SKETCH_MODES,
    SketchEncoder,
    SketchGenerator,
    SketchModels,
    describe_sketches,
    search_sketch,
    sketch_view,
)
from retrieval.engine.sketch.train_gan import _gan_step


def drawing(size: int = 280, width: int = 12, ink: int = 0, paper: int = 255, box=(60, 40, 220, 250)) -> Image.Image:
    """A shirt-ish outline drawn with a thick pen, as a canvas would export it."""
    image = Image.new("L", (size, size), paper)
    ImageDraw.Draw(image).rectangle(box, outline=ink, width=width)
    return image


def tiny_descriptor() -> CNNDescriptor:
    torch.manual_seed(0)
    kwargs = {"num_classes": 10, "in_channels": 1, "input_size": 28, "width": 4}
    return CNNDescriptor(net=create_net("fmnist_cnn", **kwargs).eval(), arch="fmnist_cnn", classes=tuple("abcdefghij"),
                         mean=0.2, std=0.3, checkpoint_id="teacher", net_kwargs=kwargs)


def tiny_models(descriptor, teacher_id: str | None = None) -> SketchModels:
    encoder_net = create_net("fmnist_cnn", **descriptor.net_kwargs).eval()
    return SketchModels(
        generator=SketchGenerator(UNetGenerator(ngf=4).eval(), "gan", torch.device("cpu")),
        encoder=SketchEncoder(encoder_net, 0.1, 0.3, teacher_id or descriptor.checkpoint_id, "enc", torch.device("cpu")))


def tiny_pair(descriptor) -> SearchPair:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (40, 28, 28), dtype=np.uint8)
    index = VectorIndex.build(descriptor.describe_arrays(images), np.arange(100, 140), np.arange(40) % 10,
                              {"checkpoint_id": descriptor.checkpoint_id, "features": descriptor.features})
    return SearchPair(descriptor, index, "teacher.pt", "index.npz")


def test_a_drawing_is_normalised_to_one_pixel_strokes_filling_the_frame():
    view = sketch_view(drawing(), 28)
    assert view.ink.shape == (28, 28) and view.image.size == (28, 28) and view.image.mode == "L"
    rows, cols = np.nonzero(view.ink > 0.5)
    assert rows.min() <= 1 and rows.max() >= 26  # cropped to the drawing: the tall side fills the frame
    assert view.ink[5:23, 8:20].max() == 0  # the inside of the outline stays empty
    assert (view.ink > 0.5).sum() < 2.2 * 2 * (28 + 20)  # a thick pen becomes a thin line


def near(a: np.ndarray, b: np.ndarray) -> float:
    """Share of a's ink within one pixel of b's ink."""
    grown = torch.nn.functional.max_pool2d(torch.from_numpy(b)[None, None], 3, 1, 1)[0, 0].numpy()
    return float((grown[a > 0.5] > 0.5).mean())


def test_ink_polarity_pen_width_and_canvas_size_do_not_change_the_view():
    reference = sketch_view(drawing(), 28).ink
    for variant in (drawing(ink=255, paper=0), drawing(width=4), drawing(size=1000, width=40, box=(214, 143, 786, 893))):
        ink = sketch_view(variant, 28).ink
        assert near(ink, reference) > 0.95 and near(reference, ink) > 0.95


@pytest.mark.parametrize("image", [Image.new("L", (280, 280), 255), Image.new("L", (1, 1), 0),
                                   Image.new("RGB", (50, 50), (250, 250, 250))])
def test_a_blank_canvas_asks_for_a_drawing(image):
    with pytest.raises(BlankSketch, match="draw something first"):
        sketch_view(image, 28)


def test_a_speck_is_too_small_to_read():
    image = Image.new("L", (4000, 4000), 255)
    image.putpixel((2000, 2000), 0)
    with pytest.raises(BlankSketch, match="too small"):
        sketch_view(image, 28)


@pytest.mark.parametrize("mode", list(SKETCH_MODES))
def test_every_mode_lands_in_the_descriptor_space_and_searches_the_index(mode):
    descriptor = tiny_descriptor()
    pair, models = tiny_pair(descriptor), tiny_models(descriptor)
    result = search_sketch(pair, models, decode_image(encode_png(drawing())), mode=mode, k=5, metric="cosine")
    assert result.mode == mode and len(result.hits.ids) == 5 and set(result.hits.ids) <= set(range(100, 140))
    assert np.all(np.diff(result.hits.distances) >= -1e-6)
    assert result.generated is not None and result.generated.size == (28, 28)  # shown whatever the mode
    assert result.explained_image is result.generated
    assert set(result.timings_ms) == {"normalise", "describe", "search"}
    vectors, images = describe_sketches(mode, result.view.ink[None], descriptor, models)
    assert vectors.shape == (1, descriptor.dim) and (images is not None) == (mode == "gan")


def test_without_a_gan_the_results_are_explained_by_the_sketch_itself():
    descriptor = tiny_descriptor()
    models = SketchModels(encoder=tiny_models(descriptor).encoder)
    result = search_sketch(tiny_pair(descriptor), models, decode_image(encode_png(drawing())), mode="direct", k=3,
                           metric="l2")
    assert result.generated is None and result.explained_image is result.view.image


def test_untrained_or_mismatched_models_disable_their_modes_with_a_reason():
    descriptor = tiny_descriptor()
    ink = sketch_view(drawing(), 28).ink[None]
    with pytest.raises(NotReady, match="train sketch_gan"):
        describe_sketches("gan", ink, descriptor, SketchModels())
    with pytest.raises(NotReady, match="train sketch_encoder"):
        describe_sketches("encoder", ink, descriptor, SketchModels())
    with pytest.raises(NotReady, match="another descriptor"):
        describe_sketches("encoder", ink, descriptor, tiny_models(descriptor, teacher_id="other"))
    assert describe_sketches("direct", ink, descriptor, SketchModels())[0].shape == (1, descriptor.dim)
    with pytest.raises(ValueError, match="unknown sketch mode"):
        describe_sketches("telepathy", ink, descriptor, SketchModels())


def test_a_tiny_pix2pix_learns_a_fixed_batch():
    torch.manual_seed(0)
    net_g, net_d = UNetGenerator(ngf=8), PatchDiscriminator(ndf=8)
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    sketch = (torch.rand(8, 1, 28, 28) > 0.8).float()
    real = torch.rand(8, 1, 28, 28)
    losses = [_gan_step(net_g, net_d, opt_g, opt_d, sketch, real, l1_weight=100.0) for _ in range(30)]
    assert set(losses[0]) == {"D", "G_adv", "G_L1"} and all(np.isfinite(list(step.values())).all() for step in losses)
    assert np.mean([step["G_L1"] for step in losses[-5:]]) < 0.8 * np.mean([step["G_L1"] for step in losses[:5]])
    assert net_g(sketch).shape == (8, 1, 28, 28) and net_d(sketch, real).shape[:2] == (8, 1)


def test_batched_normalisation_sees_training_sketches_as_the_search_sees_a_drawing():
    from retrieval.engine.sketch.edges import canny_edges
    from retrieval.engine.sketch.normalise import normalise_inks
    from retrieval.engine.sketch.strokes import augment_strokes

    shapes = np.zeros((6, 28, 28), np.uint8)
    for i, (lo, hi) in enumerate([(4, 24), (8, 20), (2, 26), (10, 27), (0, 14), (6, 22)]):
        shapes[i, lo:hi, 3 + i:25 - i] = 200
    edges = torch.from_numpy(canny_edges(shapes))[:, None]
    drawn = (augment_strokes(edges, torch.Generator().manual_seed(0))[:, 0] * 255).round().byte().numpy()
    batched = normalise_inks(np.concatenate([drawn, np.zeros((1, 28, 28), np.uint8)]) / 255.0)
    for sketch, ink in zip(drawn, batched, strict=False):
        one = sketch_view(Image.fromarray(sketch, "L"), 28).ink
        assert near(ink, one) > 0.9 and near(one, ink) > 0.9
    assert batched[-1].max() == 0  # nothing readable: an empty sketch, not an error
