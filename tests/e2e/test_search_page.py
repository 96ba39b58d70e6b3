"""Upload an image in real headless Chromium and see the result grid with explanations;
the query's link, CSV and PNG; keyboard use."""

import csv
import re

from playwright.sync_api import expect

from tests.support.pages import GalleryPageInBrowser, needs_query_links


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
        expect(cards.first.locator(".histogram-legend")).to_have_text(re.compile(r"query\s+result\s+intensity"))
        expect(cards.first.locator(".histogram .ticks text")).to_have_count(6)  # 3 on each axis
        expect(page.locator("#results-announcer")).to_have_text(re.compile(r"^6 results, best: .+ at \d+\.\d{4}$"))
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
        example = page.locator(".example").first
        example.click()
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(example).to_have_class(re.compile("selected"))
        expect(example).to_have_attribute("aria-current", "true")
        expect(page.locator(".example.selected")).to_have_count(1)

    def test_bad_file_shows_a_readable_message_and_clears_stale_results(self):
        page = self.open_live("/")
        page.set_input_files("#id_image", self.query_file())
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        bad = self.tmp_path / "notes.png"
        bad.write_bytes(b"this is not an image")
        page.set_input_files("#id_image", bad)
        expect(page.locator("#form-errors")).to_contain_text("not an image")
        expect(page.locator("#result-grid .result-card")).to_have_count(0)
        expect(page.locator("#dropzone-preview")).to_be_hidden()  # no broken-image icon

    def test_the_grid_saves_as_a_png(self):
        page = self.open_live("/")
        page.set_input_files("#id_image", self.query_file())
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        with page.expect_download() as download:
            page.get_by_role("button", name="Save grid as PNG").click()
        assert download.value.suggested_filename.endswith(".png")
        assert download.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_the_skip_link_and_the_drop_zone_work_from_the_keyboard(self):
        page = self.open_live("/")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile("#main$"))
        page.keyboard.press("Tab")  # past the navigation, the first stop in the content: the drop zone's file input
        expect(page.locator("#id_image")).to_be_focused()
        outline = page.locator("#dropzone").evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline == "solid"
        # Enter asks the input for its file dialog. Counted at the click, not through the dialog:
        # headless Chromium shows a file chooser for a scripted click only now and then.
        page.evaluate("""() => { const input = document.getElementById("id_image");
            window.dialogs = 0; input.click = () => { window.dialogs += 1; }; }""")
        page.keyboard.press("Enter")
        page.keyboard.press(" ")
        assert page.evaluate("window.dialogs") == 2
        page.set_input_files("#id_image", self.query_file())
        expect(page.locator("#result-grid .result-card")).to_have_count(10)

    @needs_query_links
    def test_a_querys_link_reproduces_it_after_reload_and_back_returns(self):
        page = self.open_live("/")
        page.set_input_files("#id_image", self.query_file())
        cards = page.locator("#result-grid .result-card .thumb")
        expect(cards).to_have_count(10)
        expect(page).to_have_url(re.compile(r"[?&]q=\w+"))
        uploaded = page.url
        top = [cards.nth(i).get_attribute("href") for i in range(10)]
        page.reload()
        expect(cards).to_have_count(10)
        assert [cards.nth(i).get_attribute("href") for i in range(10)] == top
        # A second query is a new history entry; Back shows the first again.
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        page.locator(".example").nth(3).click()
        expect(page).to_have_url(re.compile(r"[?&]example=\d+"))
        expect(page.locator(".example.selected")).to_have_count(1)
        page.go_back()
        expect(page).to_have_url(uploaded)
        expect(cards).to_have_count(10)
        assert [cards.nth(i).get_attribute("href") for i in range(10)] == top

    @needs_query_links
    def test_the_results_download_as_csv_and_the_link_copies(self):
        page = self.open_live("/")
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.locator("#id_k").fill("7")
        page.set_input_files("#id_image", self.query_file())
        expect(page.locator("#result-grid .result-card")).to_have_count(7)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        rows = list(csv.reader(download.value.path().read_text().splitlines()))
        assert rows[0][:3] == ["rank", "id", "label"] and len(rows) == 1 + 7
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("#query-actions .action-feedback")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == page.url

    def test_without_javascript_the_form_posts_and_renders_results(self):
        context = self.browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(self.live_server_url + "/")
        page.set_input_files("#id_image", self.query_file())
        page.locator("button[type=submit]").click()
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page.locator("#result-status")).to_contain_text("10 results")
        context.close()
