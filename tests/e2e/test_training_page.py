"""The training centre in real headless Chromium: a staff member logs in, starts a tiny run
from the form, watches the loss curve grow over the websocket and sees the run finish."""

import os
import time
from pathlib import Path

import pytest
import torch
from channels.testing import ChannelsLiveServerTestCase
from daphne.testing import DaphneProcess
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.conftest import DATASET_MISSING

# How many points the uPlot chart holds (static/js/charts.js records it on its element), once its canvas is there.
POINTS = """() => {
  const chart = document.getElementById("loss-chart");
  return chart && chart.querySelector("canvas") ? Number(chart.dataset.points) : 0;
}"""
SHOTS = os.environ.get("PAGES_SHOTS")


class OneThreadDaphne(DaphneProcess):
    """The live server trains in its worker thread: one torch thread, as on a shared 2-core
    machine two threads make every step ~30 times slower."""

    def run(self):
        torch.set_num_threads(1)
        super().run()


@pytest.mark.skipif(DATASET_MISSING, reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
class TrainingPageInBrowser(ChannelsLiveServerTestCase):
    serve_static = True
    ProtocolServerProcess = OneThreadDaphne

    @pytest.fixture(autouse=True)
    def _browser_page(self, page: Page):
        self.page = page

    def setUp(self):
        get_user_model().objects.create_user("lecturer", password="demo-pass", is_staff=True)

    def log_in(self):
        page = self.page
        page.goto(self.live_server_url + "/admin/login/?next=/training/")
        page.fill("#id_username", "lecturer")
        page.fill("#id_password", "demo-pass")
        page.click("input[type=submit]")
        expect(page.locator("#train-form")).to_be_visible()

    def test_start_a_run_and_watch_the_loss_curve_grow_until_it_finishes(self):
        page = self.page
        self.log_in()
        page.fill("#id_epochs", "2")
        page.fill("#id_batch_size", "16")
        page.fill("#id_subset", "640")
        page.select_option("#id_device", "cpu")
        page.uncheck("#id_augment")
        page.click("details.advanced summary")
        page.fill("#id_eval_queries", "200")
        page.click("#train-form button[type=submit]")
        expect(page).to_have_url(self.live_server_url + "/training/1/")
        expect(page.locator("#live-indicator")).to_have_class("dot live")
        counts, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline:
            counts.append(page.evaluate(POINTS))
            if page.locator("#run-status").get_attribute("data-status") == "finished":
                break
            page.wait_for_timeout(100)
        expect(page.locator("#run-status")).to_have_text("Finished")
        growing = sorted({c for c in counts if c})
        assert len(growing) >= 3, f"the curve did not grow step by step: {counts}"
        assert page.evaluate(POINTS) == 80  # 640 / 16 steps x 2 epochs, all drawn
        expect(page.locator("#epoch-table tbody tr")).to_have_count(2)
        expect(page.locator("#final-metrics")).to_contain_text("P@5")
        expect(page.locator("#stat-step")).to_have_text("80 / 80")
        expect(page.locator("#activate-form")).to_be_visible()
        expect(page.locator("#cancel-form")).to_be_hidden()
        expect(page.locator("#loss-chart canvas")).to_have_count(1)
        expect(page.locator('#loss-table tr[data-loss="cross_entropy"] .loss-step')).to_have_text("80")
        expect(page.locator("#account-name")).to_have_text("lecturer")
        if SHOTS:
            self.screenshots(page)

    def screenshots(self, page):
        for size, viewport in {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}.items():
            page.set_viewport_size(viewport)
            page.wait_for_timeout(300)  # the chart follows its new width
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/run-{size}.png", full_page=True)
            page.goto(self.live_server_url + "/training/")
            page.screenshot(path=f"{SHOTS}/training-staff-{size}.png", full_page=True)
            page.go_back()

    def test_a_visitor_watches_but_cannot_start(self):
        page = self.page
        page.goto(self.live_server_url + "/training/")
        expect(page.locator("#train-form")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("log in")
        response = page.goto(self.live_server_url + "/training/12345/")
        assert response.status == 404
