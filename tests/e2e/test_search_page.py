"""Upload an image in real headless Chromium and see the result grid with explanations."""

import re

from playwright.sync_api import expect

from tests.support.pages import GalleryPageInBrowser


class SearchPageInBrowser(GalleryPageInBrowser):
    def test_upload_streams_results_with_explanations_over_the_websocket(self):
        page = self.page
        page.goto(self.live_server_url + "/")
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        page.locator("#id_k").fill("6")
        page.set_input_files("#id_image", self.query_file())
        cards = page.locator("#result-grid .result-card")
        expect(cards).to_have_count(6)
        expect(page.locator("#result-status")).to_contain_text("6 results")
        expect(cards.first.locator("svg polyline")).to_have_count(2)  # query and result, intensity channel
        expect(cards.first.locator(".histogram-distance")).to_have_text(re.compile(r"^\d+\.\d{4}$"))
        expect(cards.first.locator(".feature-distance")).to_have_text(re.compile(r"^\d+\.\d{4}$"))
        expect(page.locator(".query-panel")).to_contain_text("what the network sees")
        # Changing the metric re-runs the query live.
        page.get_by_label("Cosine").check()
        expect(page.locator("#result-status")).to_contain_text("by cosine")

    def test_example_query_runs_with_one_click(self):
        page = self.page
        page.goto(self.live_server_url + "/")
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        page.locator(".example").first.click()
        expect(page.locator("#result-grid .result-card")).to_have_count(10)

    def test_bad_file_shows_a_readable_message(self):
        page = self.page
        page.goto(self.live_server_url + "/")
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        bad = self.tmp_path / "notes.png"
        bad.write_bytes(b"this is not an image")
        page.set_input_files("#id_image", bad)
        expect(page.locator("#form-errors")).to_contain_text("not an image")
        expect(page.locator("#result-grid .result-card")).to_have_count(0)

    def test_without_javascript_the_form_posts_and_renders_results(self):
        context = self.browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(self.live_server_url + "/")
        page.set_input_files("#id_image", self.query_file())
        page.locator("button[type=submit]").click()
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page.locator("#result-status")).to_contain_text("10 results")
        context.close()
