"""The base of the browser tests of the search pages: a live server with the tiny gallery
imported and indexed, and Playwright's page, browser and a scratch folder on the test."""

from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.conftest import DATASET_MISSING, TINY_GALLERY, tiny_checkpoint

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
# The server side of "every query is a link" (the #query-state element, ?q= and format=csv)
# comes with its own branch: the tests of the browser side that need it wait for it.
QUERY_STATE_MISSING = not (Path(__file__).resolve().parents[2] / "templates/retrieval/_query_state.html").exists()
needs_query_links = pytest.mark.skipif(QUERY_STATE_MISSING, reason="the server side of query links is not here yet")


@pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
class GalleryPageInBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser_page(self, page: Page, browser, tmp_path):
        self.page, self.browser, self.tmp_path = page, browser, tmp_path

    def setUp(self):
        # The live server's database is flushed between tests: import (or keep) the tiny gallery.
        from retrieval.galleries.services import gallery_import_fashion_mnist, index_rebuild

        tiny_checkpoint()
        self.gallery = gallery_import_fashion_mnist(folder=settings.RETRIEVAL["FASHION_MNIST_DIR"], limit=TINY_GALLERY)
        index_rebuild(gallery=self.gallery)

    def open_live(self, path: str = "/degraded/") -> Page:
        """Open a search page and wait until its websocket is live."""
        self.page.goto(self.live_server_url + path)
        expect(self.page.locator("#live-indicator")).to_have_class("dot live")
        return self.page

    def phone(self) -> Page:
        """A page in a new phone-sized touch context (390 x 844), closed after the test."""
        context = self.browser.new_context(**PHONE)
        self.addCleanup(context.close)
        return context.new_page()

    def query_file(self):
        """The first test image, as a PNG file to upload."""
        image = self.gallery.images.filter(split="test").order_by("source_index").first()
        path = self.tmp_path / "query.png"
        with image.file.open("rb") as f:
            path.write_bytes(f.read())
        return path
