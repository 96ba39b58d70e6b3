"""The composites page in headless Chromium: three gallery images picked, the composite is built
live over the websocket, and its sources come back marked; a phone-width screenshot too."""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from channels.testing import ChannelsLiveServerTestCase
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

SHOTS = os.environ.get("COMPOSITES_SHOTS")  # a folder: save screenshots there (for looking at the page)


class CompositesPageInBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser_page(self, page: Page):
        self.page = page

    def setUp(self):
        from retrieval.composites import services
        from retrieval.galleries.folders import gallery_import_folder

        rng = np.random.default_rng(0)
        services.composite_gallery.cache_clear()
        with tempfile.TemporaryDirectory() as folder:
            for cls in ("discs", "boxes"):
                (Path(folder) / cls).mkdir()
                for i in range(8):
                    image = Image.new("RGB", (64, 64), (255, 255, 255))
                    draw = ImageDraw.Draw(image)
                    for _ in range(3):
                        colour = tuple(int(c) for c in rng.integers(0, 220, 3))
                        x0, y0 = (int(v) for v in rng.integers(4, 32, 2))
                        box = [x0, y0, x0 + int(rng.integers(10, 30)), y0 + int(rng.integers(10, 30))]
                        (draw.ellipse if cls == "discs" else draw.rectangle)(box, fill=colour)
                    image.save(Path(folder) / cls / f"{i}.png")
            self.gallery = gallery_import_folder(folder=Path(folder), slug="tuxpaint-stamps").gallery

    def tearDown(self):
        from retrieval.composites import services

        services.composite_gallery.cache_clear()

    def _shot(self, name):
        if SHOTS:
            self.page.screenshot(path=str(Path(SHOTS) / name), full_page=True)

    def test_three_picked_images_are_combined_and_their_sources_marked(self):
        page = self.page
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(self.live_server_url + "/composites/")
        picks = page.locator("#composite-examples .pick")
        for i in (0, 1, 2):
            picks.nth(i).click()
        expect(page.locator("#pick-count")).to_have_text("3 picked")
        expect(page.locator("#composite-image")).to_be_visible(timeout=60_000)
        expect(page.locator("#found-sources .found-source.true-source")).to_have_count(3, timeout=60_000)
        expect(page.locator("#composites-status")).to_contain_text("true sources found: 3 of 3", timeout=60_000)
        assert "sources=" in page.url  # the query is a link
        page.select_option("select[name=combine]", "paste")
        expect(page.locator("#composite-hypothesis")).to_have_text("paste", timeout=60_000)
        expect(page.locator("#found-sources .found-source.true-source")).to_have_count(3, timeout=60_000)
        self._shot("composites-desktop.png")
        page.set_viewport_size({"width": 390, "height": 844})
        self._shot("composites-phone.png")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the page scrolls sideways on a phone ({width} px)"


class UploadedCompositeInBrowser(CompositesPageInBrowser):
    """Its own class, so its own live server: the server process keeps the gallery it loaded."""

    test_three_picked_images_are_combined_and_their_sources_marked = None

    def test_an_uploaded_composite_made_elsewhere_is_explained(self):
        """A composite made as a person would (the held-out builder: stored files, Lanczos or
        bicubic, a 256 px JPEG) is uploaded with the file input; the sources found include the
        images it was made from (an upload has no true sources to mark)."""
        from retrieval.composites.services import composite_gallery
        from retrieval.engine.composites.foreign import foreign_composite

        cg = composite_gallery("tuxpaint-stamps")
        rows = [1, 9, 14]
        made = foreign_composite("collage", [cg.picture(r) for r in rows], np.random.default_rng(3), side=64, channels=3,
                                 background=1.0)
        page = self.page
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(self.live_server_url + "/composites/")
        page.select_option("select[name=combine]", "upload")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "my-collage.jpg"
            path.write_bytes(made.data)
            page.set_input_files("#composite-file", str(path))
            expect(page.locator("#composite-hypothesis")).to_have_text("collage", timeout=60_000)
        found = page.locator("#found-sources .found-source")
        expect(found.first).to_be_visible(timeout=60_000)
        expect(page.locator("#found-sources .found-source.true-source")).to_have_count(0)
        ids = [int(i) for i in cg.arrays.ids[rows]]
        shown = {int(i) for i in found.evaluate_all("els => els.map(e => e.dataset.id)")}
        assert set(ids) <= shown, (ids, shown)
        self._shot("composites-upload-desktop.png")
        page.set_viewport_size({"width": 390, "height": 844})
        self._shot("composites-upload-phone.png")
