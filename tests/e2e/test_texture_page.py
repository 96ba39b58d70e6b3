"""The texture page in headless Chromium: a gallery texture picked, then a box dragged over it,
and an upload; each ranked by Hamming distance live over the websocket, with the picked
texture's precision-recall curve drawn by uPlot; phone-width and desktop screenshots too."""

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from channels.testing import ChannelsLiveServerTestCase
from PIL import Image
from playwright.sync_api import Page, expect

from retrieval.engine.texture.patterns import GIMP_PATTERNS

SHOTS = os.environ.get("TEXTURE_SHOTS")  # a folder: save screenshots there (for looking at the page)
pytestmark = pytest.mark.skipif(not GIMP_PATTERNS.is_dir(), reason="gimp-data patterns are not installed")


class TexturePageInBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser_page(self, page: Page):
        self.page = page

    def setUp(self):
        from tests.support.textures import import_texture_gallery, tiny_texture_checkpoints

        tiny_texture_checkpoints()
        self.folder = tempfile.TemporaryDirectory()
        self.gallery = import_texture_gallery(Path(self.folder.name))

    def tearDown(self):
        from retrieval.texture import services

        services.forget()
        self.folder.cleanup()

    def _shot(self, name):
        if SHOTS:
            self.page.screenshot(path=str(Path(SHOTS) / name), full_page=True)

    def _hammings(self) -> list[int]:
        return [int(h) for h in self.page.locator("#result-grid .texture-card").evaluate_all(
            "cards => cards.map(c => c.dataset.hamming)")]

    def test_a_picked_texture_then_a_box_are_ranked_by_hamming_distance(self):
        page = self.page
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(self.live_server_url + "/texture/")
        expect(page.locator("#live-indicator")).to_have_text("live results", timeout=30_000)
        page.locator("#texture-examples .texture-pick").nth(1).click()
        expect(page.locator("#texture-status")).to_contain_text("ranked by Hamming distance at 64 bits", timeout=60_000)
        expect(page.locator("#result-grid .texture-card")).to_have_count(10)
        hammings = self._hammings()
        assert hammings == sorted(hammings) and hammings[0] == 0
        expect(page.locator("#pr-chart canvas")).to_have_count(1, timeout=10_000)  # uPlot drew the curve
        expect(page.locator("#texture-expansion")).to_be_visible()
        assert "example=" in page.url and "bits=64" in page.url
        self._shot("texture-desktop.png")

        page.locator("#bits-choice input[value='256']").check()
        expect(page.locator("#texture-status")).to_contain_text("at 256 bits", timeout=60_000)
        box = page.locator("#stage-image").bounding_box()
        page.mouse.move(box["x"] + 4, box["y"] + 4)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
        page.mouse.up()
        expect(page.locator("#box-outline")).to_be_visible()
        value = page.locator("#id_box").input_value()
        left, top, width, height = map(int, value.split(","))
        assert width == height >= 8 and left + width <= 32
        expect(page.locator("#texture-results figcaption").first).to_contain_text(f"box {value} of the 32 x 32 px image",
                                                                                 timeout=60_000)
        expect(page.locator("#texture-status")).to_contain_text("at 256 bits", timeout=60_000)
        assert f"box={value.replace(',', '%2C')}" in page.url

        page.set_viewport_size({"width": 390, "height": 844})
        self._shot("texture-phone.png")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the page scrolls sideways on a phone ({width} px)"

    def test_an_uploaded_texture_is_searched(self):
        page = self.page
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(self.live_server_url + "/texture/")
        expect(page.locator("#live-indicator")).to_have_text("live results", timeout=30_000)
        buffer = io.BytesIO()
        rng = np.random.default_rng(1)
        Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(buffer, format="PNG")
        page.locator("#texture-file").set_input_files(files=[{"name": "t.png", "mimeType": "image/png",
                                                               "buffer": buffer.getvalue()}])
        expect(page.locator("#texture-status")).to_contain_text("ranked by Hamming distance", timeout=60_000)
        expect(page.locator("#texture-results figcaption").first).to_contain_text("of the 160 x 120 px image")
        expect(page.locator("#pr-chart")).to_have_count(0)  # an upload has no label
        assert "q=" in page.url
        self._shot("texture-upload.png")
