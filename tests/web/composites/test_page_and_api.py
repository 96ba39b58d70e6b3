"""The composites page, its query API and CSV, and bad input."""

import numpy as np
import pytest
from django.urls import reverse

from .conftest import pick


def test_the_empty_page_offers_gallery_images_to_pick(client, stamps):
    response = client.get(reverse("retrieval:composites"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Find the sources of a composite" in html and html.count('class="pick') >= 4


@pytest.mark.parametrize("combine", ["blend", "collage", "paste"])
def test_a_link_builds_the_composite_and_marks_its_true_sources(client, stamps, combine):
    ids = pick(stamps)
    response = client.get(reverse("retrieval:composites"), {"sources": ",".join(map(str, ids)), "combine": combine})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="composite-image"' in html and 'id="composite-regions"' in html
    assert html.count("found-source true-source") == 3, html[html.find("found-sources"):][:3000]


def test_the_api_answers_json_and_csv(client, latents):
    ids = pick(latents)
    body = {"sources": ",".join(map(str, ids)), "combine": "blend", "alphas": "0.5,0.3,0.2", "k": 4}
    response = client.post("/api/composites/search/", body, content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["hypothesis"] == "blend" and sorted(data["true_sources"]) == sorted(ids)
    assert [s["true"] for s in data["sources"][:3]] == [True, True, True]
    assert data["composite"].startswith("data:image/png;base64,") and len(data["sources"][0]["box"]) == 4
    methods = {m["name"] for m in data["methods"]}
    assert {"gan_ae", "ae", "descriptor", "pixel"} <= methods
    assert data["reconstruction"].startswith("data:image/png;base64,")  # G(E(x)), the paper's decoder
    csv = client.post("/api/composites/search/?format=csv", body, content_type="application/json")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("method,rank,id") and lines[1].startswith("explain,1,")


def test_an_image_repeated_in_a_quadrant_collage_has_both_its_regions(client, stamps):
    ids = pick(stamps)
    body = {"sources": ",".join(map(str, ids)), "combine": "collage", "layout": "quadrants", "k": 3}
    data = client.post("/api/composites/search/", body, content_type="application/json").json()
    regions = {s["result"]["id"]: [s["box"], *s["more"]] for s in data["sources"]}
    assert sorted(regions[ids[0]]) == [[0, 0, 96, 96], [96, 96, 192, 192]]  # A B / C A
    assert regions[ids[1]] == [[96, 0, 192, 96]] and regions[ids[2]] == [[0, 96, 96, 192]]


def test_a_non_square_uploads_pasted_stamps_are_found_at_their_own_shape(client, stamps):
    """Two stamps pasted side by side on a 128 x 80 canvas (squeezed to a square they would be
    tall, narrow shapes no cut-out has): both are found, each with its region in the composite
    as shown, at its own aspect."""
    import base64
    from io import BytesIO

    from PIL import Image

    from retrieval.engine.composites.builders import cutout_mask
    from retrieval.engine.composites.textures import texture

    images = list(stamps.images.order_by("id")[:18:9])
    canvas = Image.fromarray((texture("noise", 128, 3, 2)[:, :80].transpose(1, 2, 0) * 255).astype(np.uint8))
    for image, x in zip(images, (4, 68), strict=True):
        with image.file.open("rb") as f:
            stamp = Image.open(f).convert("RGB")
            stamp.load()
        mask = cutout_mask(np.asarray(stamp, np.float32).transpose(2, 0, 1) / 255, 1.0)
        canvas.paste(stamp.resize((56, 56)), (x, 12), Image.fromarray((mask * 255).astype(np.uint8)).resize((56, 56)))
    upload = BytesIO()
    canvas.save(upload, "PNG")
    upload.seek(0)
    upload.name = "wide.png"
    data = client.post("/api/composites/search/", {"combine": "upload", "image": upload, "k": 4}).json()
    assert data["hypothesis"] == "paste"
    top = {s["result"]["id"]: s["box"] for s in data["sources"][:2]}
    assert set(top) == {i.pk for i in images}, data["sources"]
    x0, y0, x1, y1 = top[images[1].pk]  # 68-124 of 128 and 12-68 of 80, shown at 192 x 120: 102-186 and 18-102
    assert abs(x0 - 102) <= 6 and abs(x1 - 186) <= 6 and abs(y0 - 18) <= 6 and abs(y1 - 102) <= 6
    shown = Image.open(BytesIO(base64.b64decode(data["composite"].split(",", 1)[1])))
    assert shown.size == (192, 120)  # shown at its own aspect, not squeezed


def test_an_uploaded_composite_is_searched_without_true_sources(client, stamps):
    from io import BytesIO

    first = stamps.images.order_by("id").first()
    with first.file.open("rb") as f:
        upload = BytesIO(f.read())
    upload.name = "composite.png"
    response = client.post("/api/composites/search/", {"combine": "upload", "image": upload})
    assert response.status_code == 200
    data = response.json()
    assert data["true_sources"] == [] and data["sources"][0]["result"]["id"] == first.pk
    assert data["sources"][0]["true"] is None


@pytest.mark.parametrize("body, field", [
    ({"sources": "1", "combine": "blend"}, "sources"),
    ({"sources": "1,x", "combine": "blend"}, "sources"),
    ({"sources": "1,2", "alphas": "1", "combine": "blend"}, "alphas"),
    ({"combine": "upload"}, "image"),
    ({"sources": "1,2", "combine": "sideways"}, "combine"),
    ({"sources": "1,2", "combine": "paste", "scale": "3"}, "scale"),
])
def test_bad_input_is_a_400_naming_the_field(client, stamps, body, field):
    response = client.post("/api/composites/search/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["fields"]


def test_images_that_are_not_in_the_gallery_are_a_clear_error(client, stamps):
    response = client.post("/api/composites/search/", {"sources": "999998,999999"}, content_type="application/json")
    assert response.status_code == 400 and "no image 999998" in response.json()["detail"]
    page = client.post(reverse("retrieval:composites"), {"sources": "999998,999999"})
    assert page.status_code == 400 and b"no image 999998" in page.content


def test_warming_builds_every_methods_gallery_vectors_before_the_first_query(latents):
    from retrieval.composites import services

    assert services.warm("tuxpaint-stamps") == list(services.METHODS)
    cg = services.composite_gallery("tuxpaint-stamps")
    assert set(cg.spaces._vectors) == {"gan_ae", "ae", "descriptor", "pixel"}
    assert any(key[0] == "templates" for key in cg.arrays._cache if isinstance(key, tuple))


@pytest.mark.django_db(transaction=True)
def test_the_start_up_warming_warms_a_prepared_gallery_in_its_own_thread(latents, caplog):
    from retrieval.composites import services

    services.composite_gallery.cache_clear()
    with caplog.at_level("INFO", logger="retrieval.composites.services"):
        services.warm_in_background(poll_s=0.05).join(timeout=300)
    assert "composites: tuxpaint-stamps warmed in" in caplog.text
    assert set(services.composite_gallery("tuxpaint-stamps").spaces._vectors) == {"gan_ae", "ae", "descriptor", "pixel"}


@pytest.mark.django_db(transaction=True)
def test_the_start_up_warming_gives_up_quietly_when_the_gallery_never_comes(caplog):
    from retrieval.composites import services

    services.composite_gallery.cache_clear()
    with caplog.at_level("INFO", logger="retrieval.composites.services"):
        thread = services.warm_in_background(wait_s=0.2, poll_s=0.05)
        thread.join(timeout=30)
    assert not thread.is_alive() and "composites not warmed" in caplog.text
