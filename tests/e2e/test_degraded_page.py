"""Degrade an image in real headless Chromium and see three rows of results stream in."""

import re

from playwright.sync_api import expect

from tests.support.degraded import degraded_ready
from tests.support.pages import GalleryPageInBrowser, needs_query_links


class DegradedPageInBrowser(GalleryPageInBrowser):
    def setUp(self):
        super().setUp()
        degraded_ready(self.gallery)

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

    @needs_query_links
    def test_a_slider_setting_is_in_the_link_and_survives_a_reload(self):
        page = self.open_live()
        page.locator(".example").nth(2).click()
        expect(page.locator(".degraded-row")).to_have_count(3)
        expect(page).to_have_url(re.compile(r"[?&]example=\d+"))
        entries = page.evaluate("history.length")
        page.locator("#id_gaussian-sigma").fill("0.4")  # a tweak: replaces the history entry
        expect(page.locator(".degraded-summary")).to_contain_text("sigma 0.4")
        expect(page).to_have_url(re.compile(r"gaussian-sigma=0\.4"))
        assert page.evaluate("history.length") == entries
        page.reload()
        expect(page.locator(".degraded-summary")).to_contain_text("sigma 0.4")
        expect(page.locator(".example.selected")).to_have_count(1)
        expect(page.locator("#id_gaussian-sigma")).to_have_value("0.4")
