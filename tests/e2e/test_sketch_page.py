"""Draw on the sketch page's canvas with the mouse in real headless Chromium and watch the
results arrive over the websocket; undo, redo, clear, modes, tracing, and the fallbacks."""

import re

from playwright.sync_api import Page, expect

from tests.conftest import tiny_sketch_models
from tests.support.pages import GalleryPageInBrowser, needs_query_links
from tests.support.sketches import tshirt_png

# Strokes in canvas coordinates (0-280): a T-shirt's body, then its sleeves.
BODY = [(90, 40), (120, 55), (160, 55), (190, 40), (200, 240), (80, 240), (90, 40)]
SLEEVES = [(90, 40), (30, 90), (60, 125), (80, 110)]


class SketchPageInBrowser(GalleryPageInBrowser):
    def setUp(self):
        super().setUp()
        tiny_sketch_models()

    def open(self, page: Page | None = None, live: bool = True) -> Page:
        page = page or self.page
        page.goto(self.live_server_url + "/sketch/")
        if live:
            expect(page.locator("#live-indicator")).to_have_class("dot live")
        return page

    def draw(self, points, page: Page | None = None):
        page = page or self.page
        canvas = page.locator("#sketch-canvas")
        canvas.scroll_into_view_if_needed()  # the mouse works in viewport coordinates
        box = canvas.bounding_box()
        at = [(box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280) for x, y in points]
        page.mouse.move(*at[0])
        page.mouse.down()
        for point in at[1:]:
            page.mouse.move(*point, steps=4)
        page.mouse.up()

    def test_results_appear_as_you_draw_and_follow_undo_redo_clear_and_the_mode(self):
        page = self.open()
        page.locator("#id_k").fill("6")
        cards = page.locator("#result-grid .result-card")
        status = page.locator("#result-status")
        self.draw(BODY)
        expect(cards).to_have_count(6)
        expect(status).to_contain_text("6 results")
        expect(status).to_contain_text("Sketch encoder")
        expect(page.locator("#sketch-generated")).to_be_visible()  # what the portal thinks you drew
        expect(page.locator("#sketch-view")).to_be_visible()  # what the models see
        expect(cards.first.locator(".histogram-distance")).to_have_text(re.compile(r"^\d+\.\d{4}$"))
        expect(cards.first.locator(".feature-distance")).to_have_text(re.compile(r"^\d+\.\d{4}$"))

        # Each stroke searches again: the sketch the models saw changes.
        first_view = page.locator("#sketch-view").get_attribute("src")
        self.draw(SLEEVES)
        expect(page.locator("#sketch-view")).not_to_have_attribute("src", first_view)
        two_strokes = page.locator("#sketch-view").get_attribute("src")

        # Undo (button, then Ctrl+Shift+Z to redo) searches the drawing as it is now.
        page.locator("#tool-undo").click()
        expect(page.locator("#sketch-view")).to_have_attribute("src", first_view)
        page.keyboard.press("Control+Shift+Z")
        expect(page.locator("#sketch-view")).to_have_attribute("src", two_strokes)
        expect(page.locator("#tool-redo")).to_be_disabled()

        # Changing the mode re-runs the current sketch.
        page.get_by_label(re.compile("GAN, then descriptor")).check()
        expect(status).to_contain_text("GAN, then descriptor")
        expect(cards).to_have_count(6)

        # Clear empties the results; undoing the clear brings the drawing (and results) back.
        page.locator("#tool-clear").click()
        expect(page.locator("#sketch-results")).to_contain_text("The canvas is empty")
        expect(cards).to_have_count(0)
        expect(page.locator("#tool-clear")).to_be_disabled()
        page.keyboard.press("Control+Z")
        expect(cards).to_have_count(6)
        expect(page.locator("#sketch-view")).to_have_attribute("src", two_strokes)

    def test_a_blank_canvas_asks_to_draw_and_the_tracing_image_is_never_sent(self):
        page = self.open()
        page.locator("#trace-select").select_option(index=1)
        expect(page.locator("#sketch-underlay")).to_be_visible()
        page.locator("#sketch-submit").click()
        expect(page.locator("#form-errors")).to_contain_text("draw something first")
        expect(page.locator("#result-grid .result-card")).to_have_count(0)
        # Drawing over the tracing image searches, and marks results of the traced class.
        self.draw(BODY)
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page.locator("#form-errors")).to_be_empty()
        expect(page.locator(".seen-panel")).to_contain_text("Traced over a")

    def test_the_eraser_rubs_out_ink(self):
        page = self.open()
        self.draw(BODY)
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        page.locator("#tool-eraser").click()
        expect(page.locator("#tool-eraser")).to_have_attribute("aria-pressed", "true")
        page.locator("#brush-size").fill("32")
        # Rub out everything that was drawn: the server now sees a blank canvas.
        for y in range(30, 260, 12):
            self.draw([(20, y), (260, y)])
        expect(page.locator("#form-errors")).to_contain_text("draw something first")

    def test_an_uploaded_drawing_lands_on_the_canvas_and_is_searched(self):
        page = self.open()
        drawing = self.tmp_path / "sketch.png"
        drawing.write_bytes(tshirt_png())
        page.set_input_files("#id_image", drawing)
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page.locator("#tool-undo")).to_be_enabled()  # it is part of the drawing's history
        page.locator("#tool-undo").click()
        expect(page.locator("#sketch-results")).to_contain_text("The canvas is empty")

    def test_without_a_websocket_the_drawing_posts_through_htmx(self):
        page = self.page
        page.route_web_socket(re.compile(r".*/ws/search/"), lambda ws: ws.close())
        self.open(live=False)
        expect(page.locator("#live-indicator")).to_have_class(re.compile("offline"))
        self.draw(BODY)
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page.locator("#result-status")).to_contain_text("10 results")

    def test_without_javascript_an_uploaded_drawing_is_searched(self):
        context = self.browser.new_context(java_script_enabled=False)
        page = context.new_page()
        self.open(page, live=False)
        expect(page.locator("#sketch-canvas")).to_be_hidden()
        drawing = self.tmp_path / "sketch.png"
        drawing.write_bytes(tshirt_png())
        page.set_input_files("#id_image", drawing)
        page.locator("#sketch-submit").click()
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page.locator("#sketch-generated")).to_be_visible()
        context.close()

    def in_viewport(self, page: Page, selector: str) -> bool:
        box = page.locator(selector).bounding_box()
        size = page.viewport_size
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0 \
            and box["x"] + box["width"] <= size["width"]

    def test_on_a_phone_the_latest_results_stay_in_view_while_drawing(self):
        page = self.open(self.phone())
        expect(page.locator(".keyboard-hint")).to_be_hidden()  # no keyboard on a touch screen
        self.draw(BODY, page)
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        strip = page.locator("#sketch-strip li")
        expect(strip).to_have_count(10)
        assert self.in_viewport(page, "#sketch-canvas") and self.in_viewport(page, "#sketch-strip")
        # The next stroke updates the strip in place, the canvas still in view.
        first = strip.first.locator("img").get_attribute("src")
        self.draw(SLEEVES, page)
        expect(page.locator("#results-announcer")).to_contain_text("10 results")
        assert self.in_viewport(page, "#sketch-canvas") and self.in_viewport(page, "#sketch-strip")
        assert first  # the strip shows images, not just ranks
        # The full results use two columns on a phone.
        columns = page.locator("#result-grid").evaluate("el => getComputedStyle(el).gridTemplateColumns.split(' ').length")
        assert columns == 2

    def test_a_trace_link_preselects_the_tracing_image(self):
        example = self.gallery.images.filter(split="test").order_by("source_index")[3]
        self.page.goto(f"{self.live_server_url}/sketch/?trace={example.pk}")
        expect(self.page.locator("#trace-select")).to_have_value(str(example.pk))
        expect(self.page.locator("#sketch-underlay")).to_be_visible()
        # Any gallery image (the gallery page links "sketch over it"), not only the examples.
        other = self.gallery.images.filter(split="train").order_by("source_index").first()
        self.page.goto(f"{self.live_server_url}/sketch/?trace={other.pk}")
        expect(self.page.locator("#trace-select")).to_have_value(str(other.pk))
        expect(self.page.locator("#sketch-underlay")).to_have_attribute("src", re.compile(r"\.png$"))

    @needs_query_links
    def test_a_drawings_link_puts_it_back_on_the_canvas(self):
        page = self.open()
        self.draw(BODY)
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        expect(page).to_have_url(re.compile(r"[?&]q=\w+"))
        top = page.locator("#result-grid .result-card .thumb").first.get_attribute("href")
        page.reload()
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        assert page.locator("#result-grid .result-card .thumb").first.get_attribute("href") == top
        expect(page.locator("#tool-clear")).to_be_enabled()  # the drawing is back, and undoable
        ink = page.locator("#sketch-canvas").evaluate(
            "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((v, i) => i % 4 === 3 && v > 0).length")
        assert ink > 100
