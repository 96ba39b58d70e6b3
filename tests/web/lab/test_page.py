"""The lab page `/lab/` and its websocket flow on a tiny colour gallery."""

import io
import json

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from PIL import Image

from tests.conftest import data_url
from tests.support.sockets import connect, receive_until_done

COLUMNS = ("gap", "conv", "fc", "fc_conv", "hist")


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_empty_page_offers_the_gallery_images(client, colour_gallery):
    response = client.get(reverse("retrieval:lab") + "?gallery=tiny-colour")
    assert response.status_code == 200
    assert b"Descriptor lab" in response.content
    first = colour_gallery.images.order_by("label", "id").first()
    assert f'href="?example={first.pk}"'.encode() in response.content  # one image per class, one click away


@pytest.mark.slow
def test_a_gallery_image_gets_one_column_per_descriptor_and_its_significance_map(client, colour_gallery):
    example = colour_gallery.images.filter(label=0).first()
    response = client.get(reverse("retrieval:lab"), {"example": example.pk, "k": 5})
    assert response.status_code == 200
    html = response.content.decode()
    for name in COLUMNS:
        assert f'id="lab-col-{name}"' in html
    assert 'id="significance-map"' in html and "data:image/png;base64," in html
    assert html.count('class="feature-distance"') == 5 * len(COLUMNS)
    assert f'/media/{example.file.name}"' not in html.split('id="lab-columns"')[1]  # the query itself is left out
    assert "P@5" in html  # the query is labelled


@pytest.mark.slow
def test_an_upload_is_compared_and_bad_input_is_a_clear_400(client, colour_gallery):
    upload = io.BytesIO(_png((200, 20, 20)))
    upload.name = "red.png"
    response = client.post(reverse("retrieval:lab"), {"image": upload, "gallery": "tiny-colour", "k": 3, "metric": "cosine"})
    assert response.status_code == 200 and response.content.decode().count('class="feature-distance"') == 3 * len(COLUMNS)
    broken = io.BytesIO(b"not an image")
    broken.name = "x.png"
    response = client.post(reverse("retrieval:lab"), {"image": broken, "gallery": "tiny-colour"})
    assert response.status_code == 400 and b"not an image" in response.content
    response = client.post(reverse("retrieval:lab"), {"image_data": data_url(_png((0, 0, 0))), "metric": "manhattan"})
    assert response.status_code == 400


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the consumer reads the gallery from another thread's connection
async def test_columns_stream_in_one_by_one_over_the_websocket(colour_gallery):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({
        "type": "lab", "image": data_url(_png((20, 20, 200))), "gallery": "tiny-colour", "k": 4, "metric": "l1"}))
    messages = await receive_until_done(communicator, timeout=120)
    head, columns, done = messages[0], messages[1:-1], messages[-1]
    assert 'id="lab-results"' in head and 'id="significance-map"' in head
    assert [c.split('data-descriptor="')[1].split('"')[0] for c in columns] == list(COLUMNS)
    assert all('hx-swap-oob="true"' in c and c.count('class="feature-distance"') == 4 for c in columns)
    assert "5 descriptors compared" in done
    await communicator.disconnect()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_gallery_image_named_by_its_id_streams_over_the_websocket(colour_gallery):
    first = await database_sync_to_async(lambda: colour_gallery.images.order_by("id").first())()
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({
        "type": "lab", "example": str(first.pk), "gallery": "tiny-colour", "k": "4", "metric": "l1"}))
    messages = await receive_until_done(communicator, timeout=120)
    assert 'id="significance-map"' in messages[0], messages[0][:2000]
    assert len(messages) == 1 + len(COLUMNS) + 1
    await communicator.disconnect()
