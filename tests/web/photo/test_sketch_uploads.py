"""The sketch search takes a photo of a drawing on paper (off-white, lit unevenly) through the
photo background model's paper surface, and answers a dot or a tiny scribble with "draw more"
(a 400 in the API's error shape, a message on the page), never with confident results."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from tests.engine.photo.test_sketch_paper import drawing
from tests.web.search.test_api import assert_error

pytestmark = pytest.mark.django_db
SEARCH = "/api/sketch/search/"


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def paper_photo() -> bytes:
    """The drawing on warm off-white paper with a shadow across one side, as a phone shoots it."""
    yy, xx = np.mgrid[0:280, 0:280] / 280.0
    paper = (0.92 - 0.4 * np.clip(xx + 0.3 * yy - 0.45, 0, 1)).astype(np.float32)
    grey = np.asarray(drawing(paper), np.float32)
    tint = np.stack([grey * 1.0, grey * 0.96, grey * 0.86], -1)  # warm paper, warm light
    return jpeg(Image.fromarray(np.clip(tint, 0, 255).astype(np.uint8)))


def dot() -> bytes:
    image = Image.new("RGB", (280, 280), (240, 236, 226))
    ImageDraw.Draw(image).ellipse((138, 138, 146, 146), fill=(30, 30, 30))
    return jpeg(image)


def upload(client, data: bytes, **fields):
    return client.post(SEARCH, {"image": SimpleUploadedFile("paper.jpg", data), "k": 5, **fields})


def test_a_photo_of_a_drawing_on_shadowed_paper_is_searched_like_the_drawing(client, gallery):
    photo = upload(client, paper_photo())
    assert photo.status_code == 200, photo.content[:400]
    clean = upload(client, jpeg(drawing()))
    assert clean.status_code == 200
    ids = lambda response: [r["id"] for r in response.json()["results"]]  # noqa: E731
    assert len(set(ids(photo)) & set(ids(clean))) >= 3  # the shadow is not read as ink


def test_a_dot_gets_draw_more_in_the_api_and_on_the_page(client, gallery):
    body = assert_error(upload(client, dot()), 400, "blank_sketch")
    assert "draw more" in body["detail"]
    page = client.post(reverse("retrieval:sketch"), {"image": SimpleUploadedFile("dot.jpg", dot()), "k": 5})
    assert page.status_code == 400 and "draw more" in page.content.decode()
