"""The image search page and API with the photo wiring: the descriptor choice (standard or
photo, the default from ``default_descriptor_mode``), the mask outline in "what the network
sees", the unsure flag and score, and a cut-out's alpha as its mask."""

import io
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from retrieval.engine.photo.augment import compose_photo
from retrieval.engine.photo.queries import EVAL_STYLE
from tests.web.photo.test_evaluate_and_unsure import tiny_photo_descriptor

pytestmark = pytest.mark.django_db
API = "/api/search/"


@pytest.fixture
def photo_gallery(gallery):
    """The tiny gallery with the tiny photo descriptor indexed; afterwards the index is removed
    again, so other tests keep the standard descriptor as the default."""
    from retrieval.core.runtime import forget_pairs
    from retrieval.photo.services import photo_index_rebuild, photo_pair

    tiny_photo_descriptor()
    photo_index_rebuild(gallery=gallery)
    yield gallery
    from pathlib import Path

    Path(photo_pair(gallery.slug).index_path).unlink(missing_ok=True)
    forget_pairs()


@pytest.fixture
def calibrated(gallery):
    """The serving pair's unsure calibration, measured now (a search measures it in the
    background and answers without the flag meanwhile)."""
    from retrieval.core.runtime import serving_pair
    from retrieval.photo.services import unsure_calibration

    unsure_calibration(serving_pair(gallery.slug), "cosine")
    return gallery


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def shop_photo(gallery, kind: str = "gradient") -> bytes:
    """A test item made into a photo: a coloured item on a coloured background."""
    image = gallery.images.filter(split="test").order_by("source_index").first()
    item = np.asarray(Image.open(image.file.path).convert("L"))
    photo, _ = compose_photo(item, EVAL_STYLE, np.random.default_rng(5), kind=kind)
    return encoded(Image.fromarray(photo), "JPEG")


def post_page(client, data: bytes, name="photo.jpg", **fields):
    return client.post(reverse("retrieval:search"), {"k": 5, "image": SimpleUploadedFile(name, data), **fields})


def post_api(client, data: bytes, name="photo.jpg", **fields):
    return client.post(API, {"k": 5, "image": SimpleUploadedFile(name, data), **fields})


def test_without_the_photo_index_the_choice_offers_it_disabled_and_standard_serves(client, gallery):
    from retrieval.photo.services import photo_ready

    html = client.get(reverse("retrieval:search")).content.decode()
    assert 'name="descriptor" value="standard"' in html and 'name="descriptor" value="photo"' in html
    if not photo_ready(gallery.slug):
        assert "not trained or not indexed yet" in html
        body = post_api(client, shop_photo(gallery)).json()
        assert body["descriptor"] == "standard"
        refused = post_api(client, shop_photo(gallery), descriptor="photo")
        assert refused.status_code == 503 and refused.json()["error"] == "not_ready"


def test_standard_is_the_default_when_the_setting_says_so_and_photo_can_be_chosen(client, photo_gallery, settings):
    from retrieval.photo.services import default_descriptor_mode, photo_pair

    settings.RETRIEVAL = {**settings.RETRIEVAL, "PHOTO_DEFAULT": False}
    assert default_descriptor_mode(photo_gallery.slug) == "standard"
    assert post_api(client, shop_photo(photo_gallery)).json()["descriptor"] == "standard"
    chosen = post_api(client, shop_photo(photo_gallery), descriptor="photo").json()
    assert chosen["descriptor"] == "photo" and chosen["checkpoint_id"] == photo_pair(photo_gallery.slug).checkpoint_id


def test_a_photo_mode_query_already_in_the_gallery_style_is_served_by_the_standard_descriptor(client, photo_gallery):
    """It needs none of the photo descriptor's robustness, and the standard one is better on it."""
    from retrieval.core.runtime import serving_pair

    image = photo_gallery.images.filter(split="test").order_by("source_index").first()
    body = post_api(client, Path(image.file.path).read_bytes(), name="item.png", descriptor="photo").json()
    assert body["descriptor"] == "standard" and body["checkpoint_id"] == serving_pair(photo_gallery.slug).checkpoint_id
    photo = post_api(client, shop_photo(photo_gallery), descriptor="photo").json()
    assert photo["descriptor"] == "photo"


def test_the_photo_descriptor_is_the_default_once_ready_and_standard_can_be_chosen(client, photo_gallery):
    from retrieval.photo.services import default_descriptor_mode, photo_pair

    assert default_descriptor_mode(photo_gallery.slug) == "photo"
    html = client.get(reverse("retrieval:search")).content.decode()
    assert "not trained or not indexed yet" not in html
    default = post_api(client, shop_photo(photo_gallery)).json()
    assert default["descriptor"] == "photo" and default["checkpoint_id"] == photo_pair(photo_gallery.slug).checkpoint_id
    standard = post_api(client, shop_photo(photo_gallery), descriptor="standard").json()
    assert standard["descriptor"] == "standard" and standard["checkpoint_id"] != default["checkpoint_id"]
    page = post_page(client, shop_photo(photo_gallery), descriptor="standard")
    assert page.context["outcome"].descriptor == "standard" and "descriptor=standard" in page.context["query_state"]["link"]


def test_a_bad_descriptor_is_a_400_that_names_the_choices(client, gallery):
    response = post_api(client, shop_photo(gallery), descriptor="sketchy")
    assert response.status_code == 400 and "standard, photo" in response.json()["detail"]
    page = post_page(client, shop_photo(gallery), descriptor="sketchy")
    assert page.status_code == 400 and "is not a descriptor" in page.content.decode()


def test_what_the_network_sees_shows_the_mask_outlined_over_the_query(client, gallery):
    response = post_page(client, shop_photo(gallery))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["found"] and preview["outline"].startswith("data:image/png;base64,")
    html = response.content.decode()
    assert "the item found" in html and "what the network sees" in html
    outlined = np.asarray(Image.open(io.BytesIO(__import__("base64").b64decode(preview["outline"].split(",")[1]))))
    assert (np.abs(outlined.astype(int) - (255, 64, 160)).sum(-1) < 30).any()  # the pink outline is drawn


def test_a_gallery_image_is_left_as_it_is_and_gets_no_outline(client, gallery, query_png):
    response = post_page(client, query_png, name="q.png")
    assert response.context["preview"]["gallery_style"] and response.context["preview"]["outline"] is None


def test_a_query_unlike_the_gallery_is_flagged_on_the_page_and_in_the_api(client, calibrated):
    blank = encoded(Image.new("RGB", (120, 90), (90, 140, 200)))
    body = post_api(client, blank, name="blank.png").json()
    assert body["unsure"]["unsure"] is True and body["unsure"]["reason"] and body["query"]["found"] is False
    html = post_page(client, blank, name="blank.png").content.decode()
    assert "This doesn't look like anything in the gallery." in html


def test_a_test_image_is_not_flagged(client, calibrated, query_png):
    body = post_api(client, query_png, name="q.png").json()
    assert body["unsure"]["unsure"] is False and 0 <= body["unsure"]["score"] <= 1.5 and body["unsure"]["reason"] == ""


def test_the_unsure_flag_streams_in_the_first_websocket_fragment(calibrated):
    from retrieval.search.register import KIND
    from tests.conftest import data_url

    blank = encoded(Image.new("RGB", (120, 90), (90, 140, 200)))
    html, stream = KIND.start({"type": "search", "image": data_url(blank), "k": 3})
    assert stream is not None and "This doesn't look like anything in the gallery." in html


def cut_out(seed: int) -> Image.Image:
    """A yellow item with a transparent surround whose hidden pixels are noise of ``seed``."""
    rng = np.random.default_rng(seed)
    rgba = np.dstack([rng.integers(0, 256, (160, 200, 3)), np.zeros((160, 200))]).astype(np.uint8)
    image = Image.fromarray(rgba, "RGBA")
    ImageDraw.Draw(image).rectangle((60, 30, 129, 139), fill=(230, 200, 40, 255))
    return image


def test_before_the_calibration_is_measured_the_answer_has_no_flag_and_measuring_starts(client, gallery, tmp_path):
    from retrieval.core.runtime import serving_pair
    from retrieval.photo.services import calibration_if_ready

    pair = serving_pair(gallery.slug)
    stored = __import__("pathlib").Path(pair.index_path).with_suffix(".unsure.json")
    kept = stored.read_bytes() if stored.exists() else None
    stored.unlink(missing_ok=True)
    try:
        body = post_api(client, encoded(Image.new("RGB", (120, 90), (90, 140, 200))), name="blank.png").json()
        assert body["unsure"] is None or body["unsure"]["unsure"]  # None unless the thread already finished
        import time

        deadline = time.monotonic() + 120
        while calibration_if_ready(pair, "cosine") is None:
            assert time.monotonic() < deadline, "the calibration was never measured"
            time.sleep(0.2)
    finally:
        if kept is not None and not stored.exists():
            stored.write_bytes(kept)


def test_a_cut_out_s_alpha_is_its_mask(client, gallery):
    body = post_api(client, encoded(cut_out(0)), name="cutout.png").json()
    assert body["query"]["found"] is True and body["query"]["confidence"] == 1.0
    left, top, right, bottom = body["query"]["bbox"]
    assert abs(left - 60) <= 2 and abs(top - 30) <= 2 and abs(right - 130) <= 2 and abs(bottom - 140) <= 2
    # What lies under the transparent pixels does not matter: the alpha alone is the mask.
    other = post_api(client, encoded(cut_out(1)), name="cutout.png").json()
    assert other["query"]["bbox"] == body["query"]["bbox"]
    assert [r["id"] for r in other["results"]] == [r["id"] for r in body["results"]]
