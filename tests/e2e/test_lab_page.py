"""The descriptor lab in headless Chromium: a gallery image gives a column per descriptor, the
significance overlay, and the embedding map with the query placed and its neighbours ringed."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from channels.testing import ChannelsLiveServerTestCase
from PIL import Image
from playwright.sync_api import Page, expect

COLUMNS = ("gap", "conv", "fc", "fc_conv", "hist")


class LabPageInBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser_page(self, page: Page):
        self.page = page

    def setUp(self):
        from retrieval.galleries.folders import gallery_import_folder

        rng = np.random.default_rng(0)
        with tempfile.TemporaryDirectory() as folder:
            for cls, base in (("reds", (200, 30, 30)), ("blues", (30, 30, 200))):
                (Path(folder) / cls).mkdir()
                for i in range(7):
                    colour = tuple(int(np.clip(c + rng.integers(-40, 40), 0, 255)) for c in base)
                    image = Image.new("RGB", (48, 48), (255, 255, 255))
                    image.paste(colour, (8 + i, 8, 40, 40 - i))
                    image.save(Path(folder) / cls / f"{i}.png")
            self.gallery = gallery_import_folder(folder=Path(folder), slug="e2e-colour").gallery

    def test_a_gallery_image_shows_every_descriptor_and_the_significance_map(self):
        page = self.page
        page.goto(self.live_server_url + "/lab/?gallery=e2e-colour")
        page.locator("#lab-examples a").first.click()
        for name in COLUMNS:
            expect(page.locator(f"#lab-col-{name} .lab-hits li")).to_have_count(8, timeout=120_000)
        expect(page.locator("#significance-map")).to_be_visible()
        expect(page.locator("#lab-status")).to_contain_text("5 descriptors compared")
        plot = page.locator("#lab-map-plot")
        expect(plot).to_have_attribute("data-query", "placed", timeout=60_000)
        expect(plot).to_have_attribute("data-points", "14")
        expect(plot).to_have_attribute("data-ringed", "8")  # the fc_conv column's top 8
        expect(plot.locator("canvas")).to_be_visible()
        page.select_option("#lab-map-descriptor", "conv")
        expect(plot).to_have_attribute("data-descriptor", "conv", timeout=60_000)
        expect(page.locator("#lab-map-note")).to_contain_text("the query is the large black dot")
