"""The texture page `/texture/`, its query API (JSON and CSV), its binary indexes, and bad input."""

import io
import json
import re

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from retrieval.texture import services
from tests.support.queries import query_state

from .conftest import first_of_each_class


def png(size=(96, 96), seed=0) -> io.BytesIO:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "texture.png"
    return buffer


def hammings(html: str) -> list[int]:
    return [int(h) for h in re.findall(r'class="result-card texture-card"[^>]*data-hamming="(\d+)"', html)]


def test_the_empty_page_offers_the_gallery_textures_and_code_lengths(client, textures):
    response = client.get(reverse("retrieval:texture"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Search by texture" in html and html.count('class="example texture-pick"') == 4
    assert all(f'name="bits" value="{b}"' in html for b in (32, 64, 128, 256))
    assert 'href="/texture/"' in html  # in the navigation bar, made from the registered kinds


def test_a_picked_texture_is_ranked_by_hamming_distance_with_its_curve(client, textures):
    example = first_of_each_class(textures)[1]
    response = client.get(reverse("retrieval:texture"), {"example": example.pk, "bits": 32, "k": 8})
    assert response.status_code == 200
    html = response.content.decode()
    distances = hammings(html)
    assert len(distances) == 8 and distances == sorted(distances) and distances[0] == 0
    assert 'id="texture-patch"' in html and 'id="texture-expansion"' in html
    curve = json.loads(re.search(r'data-pr="([^"]+)"', html).group(1).replace("&quot;", '"'))
    assert curve["bits"] == 32 and 0 < len(curve["recall"]) == len(curve["precision"]) <= 33 and curve["recall"][-1] == 1.0
    assert html.count('<figure class="bit-strip">') == 8 + 1  # every hit's code, and the query's
    state = query_state(html)
    assert f"example={example.pk}" in state["link"] and "bits=32" in state["link"]
    assert "Download CSV" in html and "format=csv" in html


def test_an_upload_with_a_box_posts_without_javascript(client, textures):
    response = client.post(reverse("retrieval:texture"), {"image": png(), "box": "8,16,40,40", "bits": "64", "k": "5"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "box 8,16,40,40 of the 96 x 96 px image" in html and len(hammings(html)) == 5
    assert 'id="pr-chart"' not in html  # an upload has no label: no curve
    state = query_state(html)
    assert "q=" in state["link"] and "box=8%2C16%2C40%2C40" in state["link"]
    again = client.get(state["link"])  # the link reproduces the query
    assert again.status_code == 200 and hammings(again.content.decode()) == hammings(html)


def test_the_api_answers_json_and_csv(client, textures):
    example = first_of_each_class(textures)[2]
    body = {"example": example.pk, "bits": 64, "k": 6}
    response = client.post("/api/texture/search/", body, content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["bits"] == 64 and len(data["code"]) == 64 and set(data["code"]) <= {"0", "1"}
    assert [r["hamming"] for r in data["results"]] == sorted(r["hamming"] for r in data["results"])
    for hit in data["results"]:
        assert hit["hamming"] == sum(a != b for a, b in zip(hit["code"], data["code"], strict=True))
        assert hit["result"]["distance"] == hit["hamming"] and hit["result"]["histogram_distance"] >= 0
    assert data["results"][0]["hamming"] == 0  # itself, or a crop with its very code
    assert len(data["precision_recall"]["radius"]) == 65 and 0 < data["average_precision"] <= 1
    assert data["patch"].startswith("data:image/png;base64,") and data["expansion"].startswith("data:image/png")
    csv = client.post("/api/texture/search/?format=csv", body, content_type="application/json")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("bits,rank,id,label") and len(lines) == 7 and lines[1].startswith("64,1,")
    page_csv = client.get(reverse("retrieval:texture"), {"example": example.pk, "bits": 64, "k": 6, "format": "csv"})
    assert page_csv.status_code == 200 and page_csv.content.decode().splitlines() == lines


@pytest.mark.parametrize("body, status, words", [
    ({"bits": "7"}, 400, "7 is not a code length"),
    ({"box": "1,2,3"}, 400, "four whole numbers"),
    ({"box": "0,0,4,4"}, 400, "at least 8 x 8"),
    ({"box": "20,20,32,32"}, 400, "reaches outside the 32 x 32 px image"),
    ({"example": "999999"}, 400, "no texture with id 999999"),
])
def test_bad_input_is_a_clear_400(client, textures, body, status, words):
    example = first_of_each_class(textures)[0]
    data = {"example": example.pk, **body}
    response = client.post("/api/texture/search/", data, content_type="application/json")
    assert response.status_code == status and words in response.json()["detail"], response.json()
    page = client.post(reverse("retrieval:texture"), data)
    assert page.status_code == status and words in page.content.decode()
    assert 'class="result-card' not in page.content.decode()


def test_no_image_a_tiny_image_and_a_huge_image_are_refused(client, textures, settings):
    response = client.post("/api/texture/search/", {"bits": 64}, content_type="application/json")
    assert response.status_code == 400 and "Upload a texture" in response.json()["detail"]
    tiny = client.post("/api/texture/search/", {"image": png((5, 5))})
    assert tiny.status_code == 400 and "at least 8 x 8" in tiny.json()["detail"]
    settings.RETRIEVAL = {**settings.RETRIEVAL, "MAX_PIXELS": 50 * 50}
    huge = client.post(reverse("retrieval:texture"), {"image": png((80, 80))})
    assert huge.status_code == 413 and "pixels" in huge.content.decode()


def test_the_indexes_are_saved_with_the_checkpoint_and_reused(client, textures):
    indexes = services.texture_indexes()
    files = sorted(services.index_folder().glob(f"textures-{indexes.checkpoint_id}-*bit.binary.npz"))
    assert [f.name.split("-")[-1] for f in files] == ["128bit.binary.npz", "256bit.binary.npz", "32bit.binary.npz",
                                                       "64bit.binary.npz"]
    stamps = [f.stat().st_mtime_ns for f in files]
    services.forget()
    again = services.texture_indexes()  # loaded, not rebuilt
    assert [f.stat().st_mtime_ns for f in files] == stamps and again.by_bits[64].meta["checkpoint_id"] == indexes.checkpoint_id
    assert len(again.by_bits[32]) == textures.images.count()


def test_a_replaced_checkpoint_gets_its_own_index(client, textures, texture_checkpoint):
    import torch

    before = services.texture_indexes().checkpoint_id
    original = texture_checkpoint.read_bytes()
    try:
        checkpoint = torch.load(texture_checkpoint, map_location="cpu", weights_only=False)
        checkpoint["trained_at"] = "another run"
        torch.save(checkpoint, texture_checkpoint)
        after = services.texture_indexes()
        assert after.checkpoint_id != before
        assert (services.index_folder() / f"textures-{after.checkpoint_id}-64bit.binary.npz").is_file()
    finally:
        texture_checkpoint.write_bytes(original)
    assert services.texture_indexes().checkpoint_id == before


def test_the_page_says_when_the_gallery_is_missing(client, db, texture_checkpoint):
    html = client.get(reverse("retrieval:texture")).content.decode()
    assert "texture gallery is not imported yet" in html
    response = client.post("/api/texture/search/", {"image": png()})
    assert response.status_code == 400 and "not imported yet" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_the_server_builds_missing_indexes_in_the_background(textures):
    from retrieval.core.kinds import QUERY_KINDS

    model = services.hasher()
    for path in services.index_folder().glob(f"textures-{model.checkpoint_id}-*bit.binary.npz"):
        path.unlink()
    services.forget()
    assert QUERY_KINDS.get("texture").warm is not None  # the start-up calls it
    thread = services.build_in_background()
    assert thread is not None
    thread.join(timeout=60)
    built = sorted(services.index_folder().glob(f"textures-{model.checkpoint_id}-*bit.binary.npz"))
    assert len(built) == 4
    assert services.build_in_background() is None  # nothing left to build
    assert len(services.texture_indexes().by_bits[256]) == textures.images.count()
