"""The sketch page: the canvas page, and the form post that works without JavaScript (a PNG
upload or the canvas as a data URL), rendered in one piece or as an htmx partial."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retrieval.engine.sketch.search import SKETCH_MODES, SketchModels
from tests.support.sketches import blank_png, data_url, tshirt_png

URL = "/sketch/"


def cards(html: str) -> int:
    return html.count('class="result-card"')


def test_the_page_has_the_canvas_its_tools_and_the_modes(client, gallery, settings):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="sketch-canvas"' in html and 'id="tool-undo"' in html and 'id="tool-redo"' in html
    assert 'id="tool-eraser"' in html and 'id="tool-clear"' in html and 'id="brush-size"' in html
    assert 'ws-connect="/ws/search/"' in html and "js/sketch.js" in html
    assert '<a href="/sketch/" aria-current="page">Search by sketch</a>' in html
    for name in SKETCH_MODES:
        assert f'name="mode" value="{name}"' in html
    default = settings.RETRIEVAL["DEFAULT_SKETCH_MODE"]
    modes = html.split('class="modes"')[1].split("</fieldset>")[0]
    assert re.search(rf'value="{default}" checked', modes) and "disabled" not in modes
    assert re.search(r'value="cosine" checked', html)
    assert html.count('<option value="') >= 10  # one image per class to trace over
    assert 'name="image"' in html and 'name="image_data"' in html  # the form works without the canvas


@pytest.mark.parametrize("mode", list(SKETCH_MODES))
def test_posting_the_canvas_as_a_data_url_renders_results_in_each_mode(client, gallery, mode):
    response = client.post(URL, {"image_data": data_url(tshirt_png()), "mode": mode, "k": 5})
    assert response.status_code == 200, response.content[:300]
    html = response.content.decode()
    assert cards(html) == 5 and "histogram-distance" in html and "feature-distance" in html
    assert "what the portal thinks you drew" in html and 'id="sketch-generated"' in html
    assert "what the models see" in html and 'id="sketch-view"' in html
    assert f"<strong>{SKETCH_MODES[mode].title}</strong>" in html and "5 results" in html
    assert re.search(rf'value="{mode}" checked', html)  # the page keeps the chosen mode


def test_a_png_upload_works_without_javascript(client, gallery):
    upload = SimpleUploadedFile("sketch.png", tshirt_png(), content_type="image/png")
    response = client.post(URL, {"image": upload, "k": 4, "metric": "l2"})
    assert response.status_code == 200
    html = response.content.decode()
    assert cards(html) == 4 and "4 results" in html and "by l2" in html


def test_an_htmx_post_gets_the_results_partial(client, gallery):
    response = client.post(URL, {"image_data": data_url(tshirt_png()), "k": 3}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="sketch-results"' in html and cards(html) == 3
    assert 'id="form-errors"' in html  # cleared out of band


def test_tracing_a_test_image_marks_results_of_its_class(client, gallery):
    example = gallery.images.filter(split="test").order_by("source_index").first()
    response = client.post(URL, {"image_data": data_url(tshirt_png()), "example": example.pk})
    assert f"Traced over a <strong>{example.label_name}</strong>" in response.content.decode()


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"image_data": data_url(blank_png())}, 400, "draw something first"),
    ({}, 400, "draw something first"),
    ({"image_data": "data:image/png;base64,@@@"}, 400, "not valid base64"),
    ({"image_data": data_url(b"scribbles")}, 400, "not an image"),
    ({"image_data": data_url(tshirt_png()), "mode": "telepathy"}, 400, "not a sketch mode"),
    ({"image_data": data_url(tshirt_png()), "k": "0"}, 400, "greater than or equal to 1"),
])
def test_bad_posts_show_a_readable_message(client, gallery, fields, status, message):
    response = client.post(URL, fields)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html and 'id="sketch-canvas"' in html and cards(html) == 0


def test_a_post_over_the_size_limit_is_a_413(client, gallery, settings):
    response = client.post(URL, {"image_data": "data:image/png;base64," + "A" * (settings.PORTAL_MAX_UPLOAD_BYTES * 4 // 3 + 8)})
    assert response.status_code == 413 and "the limit is" in response.content.decode()


def test_untrained_modes_are_disabled_with_their_reason(client, gallery, monkeypatch):
    monkeypatch.setattr("retrieval.sketch.services.sketch_models", lambda: SketchModels())
    html = client.get(URL).content.decode()
    assert re.search(r'value="gan"\s+disabled', html) and re.search(r'value="encoder"\s+disabled', html)
    assert re.search(r'value="direct" checked', html)  # the default cannot run: the first that can is chosen
    assert "The sketch GAN is not trained yet" in html
    response = client.post(URL, {"image_data": data_url(tshirt_png()), "mode": "gan"})
    assert response.status_code == 503 and "not trained yet" in response.content.decode()
    response = client.post(URL, {"image_data": data_url(tshirt_png()), "mode": "direct"})
    assert response.status_code == 200 and "no GAN trained" in response.content.decode()
