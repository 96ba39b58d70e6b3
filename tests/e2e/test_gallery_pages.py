"""The gallery pages in headless Chromium: a class chip filters the grid and becomes the
active one (htmx swaps chips and grid together, the address follows), the page jumps move
through the pages, and an image page links onwards. With PAGES_SHOTS=<folder> set it also
saves desktop and phone screenshots of the pages (for looking at, not asserted)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.pages import GalleryPageInBrowser

SHOTS = os.environ.get("PAGES_SHOTS")
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


class GalleryPagesInBrowser(GalleryPageInBrowser):
    def test_a_class_chip_filters_and_becomes_the_active_one(self):
        page = self.page
        page.goto(self.live_server_url + "/galleries/fashion-mnist/")
        chips = page.locator('nav[aria-label="Filter by class"] a')
        expect(chips.filter(has_text="All")).to_have_attribute("aria-current", "true")
        page.locator('nav[aria-label="Filter by class"] a[data-label="1"]').click()
        expect(page).to_have_url(self.live_server_url + "/galleries/fashion-mnist/?split=train&label=1")
        expect(page.locator('nav[aria-label="Filter by class"] a[aria-current]')).to_have_count(1)
        expect(page.locator('nav[aria-label="Filter by class"] a[data-label="1"]')).to_have_attribute("aria-current", "true")
        expect(page.locator(".grid-summary")).to_contain_text("of class Trouser")
        assert page.locator(".thumb-grid img").first.get_attribute("alt") == "Trouser"

    def test_page_jumps_go_to_the_last_and_a_typed_page(self):
        page = self.page
        page.goto(self.live_server_url + "/galleries/fashion-mnist/")
        expect(page.locator(".grid-summary")).to_contain_text("page 1 of 5")
        page.click('a[rel="last"]')
        expect(page.locator(".grid-summary")).to_contain_text("page 5 of 5")
        expect(page.locator('a[rel="next"]')).to_have_count(0)
        page.fill('.page-jump input[name="page"]', "3")
        page.press('.page-jump input[name="page"]', "Enter")
        expect(page.locator(".grid-summary")).to_contain_text("page 3 of 5")
        expect(page).to_have_url(self.live_server_url + "/galleries/fashion-mnist/?split=train&page=3")
        page.click('a[rel="first"]')
        expect(page.locator(".grid-summary")).to_contain_text("page 1 of 5")

    def test_the_image_page_links_onwards(self):
        page = self.page
        image = self.gallery.images.filter(split="test").first()
        page.goto(self.live_server_url + image.get_absolute_url())
        expect(page.locator("#image-class")).to_have_text(image.label_name)
        expect(page.locator("#same-class-count")).to_contain_text("share its class")
        expect(page.locator("#search-with")).to_have_attribute("href", f"/?example={image.pk}")
        expect(page.locator("#sketch-over")).to_have_attribute("href", f"/sketch/?trace={image.pk}")
        expect(page.locator("#degrade-it")).to_have_attribute("href", f"/degraded/?example={image.pk}")

    @pytest.mark.skipif(not SHOTS, reason="set PAGES_SHOTS=<folder> to save screenshots")
    def test_screenshots(self):
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        image = self.gallery.images.filter(split="train").first()
        paths = {"galleries": "/galleries/", "gallery": "/galleries/fashion-mnist/?split=train&label=2&page=1",
                 "gallery-moved": "/galleries/fashion-mnist/?page=99", "image": image.get_absolute_url(),
                 "training": "/training/", "404": "/no/such/page/"}
        for size, viewport in VIEWPORTS.items():
            self.page.set_viewport_size(viewport)
            for name, path in paths.items():
                self.page.goto(self.live_server_url + path)
                self.page.wait_for_timeout(400)  # cards fade in
                self.page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=True)
