"""Shop photos in real headless Chromium, on the committed descriptors (standard and photo):
a coloured item on a coloured background finds its class, "what the network sees" outlines
the item, the descriptor choice re-runs the query, and a blank photo is flagged unsure."""

import shutil
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from tests.support.pages import GalleryPageInBrowser

COMMITTED = Path(__file__).resolve().parents[2] / "retrieval" / "checkpoints"
TROUSER = 1


class PhotoQueriesInBrowser(GalleryPageInBrowser):
    def setUp(self):
        super().setUp()
        from retrieval.core.runtime import activate_checkpoint, forget_pairs, index_path, pointer_path
        from retrieval.engine.fileio import file_digest
        from retrieval.galleries.services import index_rebuild
        from retrieval.photo.services import photo_checkpoint_path, photo_index_rebuild

        standard = COMMITTED / "descriptor-fmnist_cnn.pt"
        index_rebuild(gallery=self.gallery, checkpoint=standard)
        activate_checkpoint(self.gallery.slug, checkpoint=standard,
                            index=index_path(self.gallery.slug, file_digest(standard)))
        photo = photo_checkpoint_path()
        kept = photo.with_suffix(".kept")
        if photo.exists():
            shutil.move(photo, kept)
        shutil.copyfile(COMMITTED / "descriptor-photo.pt", photo)
        photo_index_rebuild(gallery=self.gallery)
        photo_index = index_path(self.gallery.slug, file_digest(photo))
        # The unsure rule's calibration (10,000 test queries per pair), measured here rather
        # than by the server's first query; it is kept beside each index.
        from retrieval.core.runtime import serving_pair
        from retrieval.photo.services import photo_pair, unsure_calibration

        for pair in (serving_pair(self.gallery.slug), photo_pair(self.gallery.slug)):
            unsure_calibration(pair, "cosine")

        def restore():
            photo_index.unlink(missing_ok=True)
            photo_index.with_suffix(".unsure.json").unlink(missing_ok=True)
            photo.unlink(missing_ok=True)
            if kept.exists():
                shutil.move(kept, photo)
            pointer_path(settings.RETRIEVAL["DEFAULT_GALLERY"]).unlink(missing_ok=True)
            forget_pairs()

        self.addCleanup(restore)

    def photo_file(self, label: int, kind: str, seed: int) -> Path:
        """A test item of class ``label`` made into a shop photo on a ``kind`` background."""
        from retrieval.engine.photo.augment import compose_photo
        from retrieval.engine.photo.queries import EVAL_STYLE

        image = self.gallery.images.filter(split="test", label=label).order_by("source_index").first()
        item = np.asarray(Image.open(image.file.path).convert("L"))
        photo, _ = compose_photo(item, EVAL_STYLE, np.random.default_rng(seed), kind=kind)
        path = self.tmp_path / f"{kind}.jpg"
        Image.fromarray(photo).save(path, quality=85)
        return path

    def test_a_coloured_item_on_a_coloured_background_finds_its_class(self):
        page = self.open_live("/")
        # Photo is the default once its index is ready (gallery-style queries still go to standard).
        expect(page.locator('input[name="descriptor"][value="photo"]')).to_be_checked()
        page.locator("#id_k").fill("5")
        page.set_input_files("#id_image", self.photo_file(TROUSER, "solid", seed=3))
        cards = page.locator("#result-grid .result-card")
        expect(cards).to_have_count(5)
        names = [text.strip() for text in cards.locator(".label").all_inner_texts()] or cards.all_inner_texts()
        assert sum("Trouser" in name for name in names) >= 3, names
        panel = page.locator(".query-panel")
        expect(panel).to_contain_text("the item found")
        expect(panel).to_contain_text("Descriptor: Photo")
        expect(page.locator("#unsure")).to_have_count(0)
        page.screenshot(path=str(self.tmp_path / "photo-desktop.png"), full_page=True)
        shutil.copyfile(self.tmp_path / "photo-desktop.png", settings.TEST_VAR.parent / "photo-desktop.png")
        # The standard descriptor re-runs the same query live.
        page.get_by_label("Standard").check()
        expect(panel).to_contain_text("Descriptor: Standard")
        expect(cards).to_have_count(5)

    def test_a_photo_of_nothing_is_flagged_unsure(self):
        page = self.open_live("/")
        blank = self.tmp_path / "wall.png"
        Image.new("RGB", (300, 220), (120, 150, 190)).save(blank)
        page.set_input_files("#id_image", blank)
        expect(page.locator("#unsure")).to_contain_text("This doesn't look like anything in the gallery.")

    def test_on_a_phone_the_query_panel_and_the_flag_fit(self):
        page = self.phone()
        page.goto(self.live_server_url + "/")
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        page.set_input_files("#id_image", self.photo_file(TROUSER, "stripes", seed=4))
        expect(page.locator("#result-grid .result-card")).to_have_count(10)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(settings.TEST_VAR.parent / "photo-phone.png"), full_page=True)
