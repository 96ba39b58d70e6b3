"""Source search on a tiny gallery: the portal's explain-away finds every source of each kind of
composite, and the committed latent model's search returns a blend's sources."""

from pathlib import Path

import numpy as np
import pytest

from retrieval.engine.composites.builders import KINDS, blend, random_composite
from retrieval.engine.composites.data import fmnist_images
from retrieval.engine.composites.explain import explain, ranking
from retrieval.engine.composites.gallery import GalleryArrays
from retrieval.engine.composites.search import LatentModel, compare, hits, median_distance, nearest
from tests.conftest import DATASET_MISSING

CHECKPOINTS = Path(__file__).resolve().parents[3] / "retrieval" / "checkpoints"


@pytest.mark.parametrize("kind", KINDS)
def test_explain_away_finds_each_source(tiny_gallery, kind):
    rng = np.random.default_rng(1)
    shares = []
    for n in (2, 3, 2, 3):
        rows = rng.choice(len(tiny_gallery), n, replace=False)
        composite = random_composite(kind, [tiny_gallery.images[r] for r in rows], rng)
        explanation = explain(tiny_gallery, composite.image)
        shares.append(np.isin(rows, ranking(explanation, 6)).mean())
        assert all(0 <= f.box[0] < f.box[2] <= 64 for f in explanation.found)
    # A pasted source can lie mostly under another: most, not all, are found.
    assert np.mean(shares) >= (0.8 if kind == "paste" else 1.0), shares


def test_a_blend_is_read_as_a_blend_with_its_weights(tiny_gallery):
    composite = blend([tiny_gallery.images[3], tiny_gallery.images[8]], [0.7, 0.3])
    explanation = explain(tiny_gallery, composite.image)
    assert explanation.hypothesis == "blend"
    assert [f.row for f in explanation.found[:2]] == [3, 8]
    assert explanation.found[0].how == "blend 0.70"


def test_nearest_and_the_measures():
    gallery = np.array([[0, 0], [3, 4], [6, 8]], np.float32)
    rows, distances = nearest(gallery, np.array([[3, 4.5]], np.float32), 2)
    assert rows.tolist() == [[1, 2]] and distances[0][0] == pytest.approx(0.5)
    assert median_distance(gallery) == pytest.approx(5.0)
    assert hits(np.array([[1, 2, 0]]), np.array([[0, 2]]), 2).mean() == 0.5
    assert hits(np.array([[1, 2, 0], [0, 2, 1]]), np.array([[0, 2], [0, 2]]), 2).tolist() == [0.5, 1.0]


def test_a_paired_comparison_tells_a_real_difference_from_noise_and_from_chance():
    rng = np.random.default_rng(0)
    strong, weak = (rng.random(1000) < 0.6).astype(float), (rng.random(1000) < 0.4).astype(float)
    assert compare(("a", strong), ("b", weak), 0.01)["verdict"] == "better"
    assert compare(("a", weak), ("b", strong), 0.01)["verdict"] == "worse"
    same = compare(("a", strong), ("b", (rng.random(1000) < 0.6).astype(float)), 0.01)
    assert same["verdict"] == "tie" and same["ci95"][0] < 0 < same["ci95"][1]
    # Both near a random ranking's recall: whichever hits more random items says nothing.
    lucky, unlucky = (rng.random(1000) < 0.012).astype(float), (rng.random(1000) < 0.006).astype(float)
    at_chance = compare(("a", lucky), ("b", unlucky), 0.0095)
    assert at_chance["verdict"] == "tie at chance" and at_chance["above_chance"] == {"a": False, "b": False}


@pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed")
def test_the_gan_autoencoder_latent_finds_a_blends_sources():
    from django.conf import settings

    from retrieval.engine.data.fashion_mnist import CLASS_NAMES  # noqa: F401  (the dataset is there)

    images = fmnist_images(settings.RETRIEVAL["FASHION_MNIST_DIR"], "test", 30)
    gallery = GalleryArrays(np.arange(30), images, 0.0)
    model = LatentModel.load(CHECKPOINTS / "composites-encoder-fmnist.pt")
    latents = model.encode(gallery.images)
    assert latents.shape == (30, 100)
    composite = blend([images[4], images[11]], [0.6, 0.4])
    rows, _ = nearest(latents, model.encode(composite.image[None]), 10)
    assert {4, 11} & set(rows[0].tolist()), rows  # the paper's search: the dominant source comes back
    top = ranking(explain(gallery, composite.image), 3)
    assert {4, 11} <= set(top)
    assert model.reconstruct(images[:2]).shape == (2, 1, 32, 32)


def test_small_pastes_are_found_at_their_exact_side(tiny_gallery):
    """At 32 px a stamp is pasted 11-16 px wide: one pixel off in the side is 8% of its scale, so
    every side is searched; each stamp is found with its own box."""
    from retrieval.engine.composites.builders import cutout_mask, paste

    small = GalleryArrays(tiny_gallery.ids, np.stack([np.clip(x, 0, 1) for x in _shrunk(tiny_gallery.images, 32)]), 1.0)
    rows, placements = [2, 9, 17], [(1, 2, 13 / 32), (17, 3, 11 / 32), (8, 17, 15 / 32)]
    stamps = [small.images[r] for r in rows]
    composite = paste(stamps, [cutout_mask(x, 1.0) for x in stamps], placements, ("noise", 3))
    explanation = explain(small, composite.image)
    assert explanation.hypothesis == "paste"
    boxes = {f.row: f.box for f in explanation.fits["paste"].found}
    for row, (x, y, scale) in zip(rows, placements, strict=True):
        side = round(scale * 32)
        assert boxes.get(row) == (x, y, x + side, y + side), (row, boxes)


def test_a_near_duplicate_of_a_pasted_stamp_ranks_right_after_the_stamps_found(tiny_gallery):
    """The gallery's colour variants: the variant fits the stamp's region before that region is
    explained away, so it ranks next, not behind every cut-out that fits somewhere else."""
    from retrieval.engine.composites.builders import cutout_mask, paste

    images = tiny_gallery.images
    variant = np.where(images[5] < 0.99, np.clip(images[5] + 0.04, 0, 0.98), images[5])
    gallery = GalleryArrays(np.arange(len(images) + 1), np.concatenate([images, variant[None]]), 1.0)
    rows, placements = [5, 12, 20], [(2, 2, 0.4), (36, 4, 0.4), (18, 36, 0.4)]
    stamps = [images[r] for r in rows]
    composite = paste(stamps, [cutout_mask(x, 1.0) for x in stamps], placements, ("stripes", 4))
    explanation = explain(gallery, composite.image)
    assert explanation.hypothesis == "paste"
    assert sorted(f.row for f in explanation.fits["paste"].found) == rows
    assert ranking(explanation, 4)[3] == len(images)  # the variant


def test_an_image_repeated_in_a_quadrant_collage_explains_both_its_parts(tiny_gallery):
    from retrieval.engine.composites.builders import collage

    composite = collage([tiny_gallery.images[r] for r in (4, 9, 15)], "quadrants")  # 4 9 / 15 4
    found = {f.row: f for f in explain(tiny_gallery, composite.image).fits["collage"].found}
    assert set(found) == {4, 9, 15}
    assert set(found[4].boxes) == {(0, 0, 32, 32), (32, 32, 64, 64)}
    assert found[4].how.endswith("and part 4") and found[9].boxes == ((32, 0, 64, 32),)


def test_a_non_square_composites_pastes_are_searched_at_its_own_aspect(tiny_gallery):
    """Two square stamps pasted side by side on a 128 x 80 canvas: squeezed to the models'
    square they are 28 x 45 px, no cut-out's shape; framed at the canvas's aspect they are found,
    their regions given in the squeezed square."""
    from PIL import Image

    from retrieval.engine.composites.builders import cutout_mask
    from retrieval.engine.composites.data import to_array, to_framed
    from retrieval.engine.composites.textures import texture

    canvas = texture("noise", 128, 3, 5)[:, :80].transpose(1, 2, 0)
    for row, x in ((6, 4), (13, 68)):
        stamp = np.asarray(Image.fromarray((tiny_gallery.images[row].transpose(1, 2, 0) * 255).astype(np.uint8))
                           .resize((56, 56), Image.Resampling.BILINEAR), np.float32) / 255
        alpha = np.asarray(Image.fromarray(cutout_mask(tiny_gallery.images[row], 1.0)).resize((56, 56)), np.float32)
        region = canvas[12:68, x:x + 56]
        canvas[12:68, x:x + 56] = region * (1 - alpha[..., None]) + stamp * alpha[..., None]
    upload = Image.fromarray((canvas * 255).round().astype(np.uint8))
    squeezed, framed = to_array(upload, 64, 3), to_framed(upload, 64, 3, 1.0)
    assert framed.box == (0, 12, 64, 52)
    explanation = explain(tiny_gallery, squeezed, framed=framed)
    assert explanation.hypothesis == "paste"
    boxes = {f.row: f.box for f in explanation.fits["paste"].found[:2]}
    assert set(boxes) == {6, 13}, boxes
    for row, x in ((6, 4), (13, 68)):  # the stamp's box on the 128 x 80 canvas, in the 64 px squeezed square
        expected = (x / 2, 12 * 64 / 80, (x + 56) / 2, 68 * 64 / 80)
        assert np.abs(np.subtract(boxes[row], expected)).max() <= 2, (row, boxes[row], expected)
    assert to_framed(Image.new("RGB", (100, 101)), 64, 3, 1.0) is None  # square enough: squeezed is the same


def test_a_thirds_collage_fits_exactly_at_full_size(tiny_gallery):
    from retrieval.engine.composites.builders import collage

    composite = collage([tiny_gallery.images[r] for r in (1, 6, 11)], "thirds")
    explanation = explain(tiny_gallery, composite.image)
    assert explanation.hypothesis == "collage" and "paste" not in explanation.fits
    assert explanation.fits["collage"].error < 1e-8
    assert set(ranking(explanation, 3)) == {1, 6, 11}


def _shrunk(images: np.ndarray, side: int) -> list[np.ndarray]:
    from retrieval.engine.composites.builders import resize

    return [resize(x, side, side) for x in images]
