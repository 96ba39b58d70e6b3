"""Degrade an image in real headless Chromium and see three rows of results stream in."""

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.conftest import DATASET_MISSING, TINY_GALLERY, tiny_checkpoint
from tests.degraded_support import degraded_ready


@pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
class DegradedPageInBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @pytest.fixture(autouse=True)
    def _browser_page(self, page: Page, browser, tmp_path):
        self.page, self.browser, self.tmp_path = page, browser, tmp_path

    def setUp(self):
        # The live server's database is flushed between tests: import (or keep) the tiny gallery.
        from retrieval.services import gallery_import_fashion_mnist, index_rebuild

        tiny_checkpoint()
        self.gallery = gallery_import_fashion_mnist(folder=settings.RETRIEVAL["FASHION_MNIST_DIR"], limit=TINY_GALLERY)
        index_rebuild(gallery=self.gallery)
        degraded_ready(self.gallery)

    def query_file(self):
        image = self.gallery.images.filter(split="test").order_by("source_index").first()
        path = self.tmp_path / "query.png"
        with image.file.open("rb") as f:
            path.write_bytes(f.read())
        return path

    def open_live(self) -> Page:
        page = self.page
        page.goto(self.live_server_url + "/degraded/")
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        return page

    def test_an_upload_streams_three_rows_of_results(self):
        page = self.open_live()
        page.locator("#id_k").fill("3")
        page.set_input_files("#id_image", self.query_file())
        expect(page.locator(".degraded-row")).to_have_count(3)
        for kind in ("original", "degraded", "enhanced"):
            expect(page.locator(f"#degraded-grid-{kind} .result-card")).to_have_count(3)
        expect(page.locator("#degraded-status")).to_contain_text("3 rows, 9 results")
        expect(page.locator("#degraded-row-enhanced .row-query figcaption")).to_contain_text("by the denoiser")
        # Only the chosen degradation's sliders show.
        expect(page.locator('fieldset[data-degradation="gaussian"]')).to_be_visible()
        expect(page.locator('fieldset[data-degradation="jpeg"]')).to_be_hidden()

    def test_moving_a_slider_updates_the_rows_live(self):
        page = self.open_live()
        page.locator(".example").first.click()
        expect(page.locator(".degraded-row")).to_have_count(3)
        expect(page.locator(".degraded-summary")).to_contain_text("sigma 0.1")
        slider = page.locator("#id_gaussian-sigma")
        for value in ("0.2", "0.35", "0.5"):  # what a lecturer's drag sends
            slider.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", value)
        expect(page.locator(".degraded-summary")).to_contain_text("sigma 0.5")
        expect(page.locator("#degraded-status")).to_contain_text("3 rows, 15 results")
        page.select_option("#id_degradation", "low_resolution")
        expect(page.locator('fieldset[data-degradation="low_resolution"]')).to_be_visible()
        expect(page.locator(".degraded-summary")).to_contain_text("Low resolution")

    def test_without_javascript_the_form_posts_and_renders_three_rows(self):
        context = self.browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(self.live_server_url + "/degraded/")
        page.set_input_files("#id_image", self.query_file())
        page.select_option("#id_degradation", "salt_pepper")
        page.locator("button[type=submit]").click()
        expect(page.locator(".degraded-row")).to_have_count(3)
        expect(page.locator("#degraded-grid-enhanced .result-card")).to_have_count(5)
        expect(page.locator(".degraded-summary")).to_contain_text("Salt-and-pepper noise")
        context.close()
