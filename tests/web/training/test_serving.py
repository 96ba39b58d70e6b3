"""What serves, as the training centre shows it: the committed models (their recorded
metrics, to every visitor), a run measuring worse than the serving model needing a confirm
step before it is activated, and no server path in any page or API answer."""

import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from retrieval.models import TrainingRun
from tests.web.training.test_pages import finished, opening_tag

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("idle_worker")]
COMMITTED = Path(django_settings.BASE_DIR) / "retrieval" / "checkpoints"
ABSOLUTE = re.compile(r"(?<![\w.:/])/(?:work|tmp|root|home|var|usr)/[\w.@+/-]*")


@pytest.fixture
def committed(settings, tmp_path):
    """A checkpoint folder holding the committed records (with small stand-in weights); the
    committed descriptor's record is the serving checkpoint's."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for record in COMMITTED.glob("*.json"):
        shutil.copy(record, folder / record.name)
        (folder / record.name).with_suffix(".pt").write_bytes(b"w" * 2048)
    serving = folder / settings.RETRIEVAL["DEFAULT_CHECKPOINT"]
    shutil.copy(COMMITTED / "descriptor-fmnist_cnn.json", serving.with_suffix(".json"))
    serving.write_bytes(b"w" * 4096)
    settings.RETRIEVAL = {**settings.RETRIEVAL, "CHECKPOINT_DIR": folder}
    return json.loads((COMMITTED / "descriptor-fmnist_cnn.json").read_text())["final"]


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_user("lecturer", password="pw", is_staff=True))


def test_anonymous_visitors_see_the_committed_models_and_their_metrics(client, committed):
    html = client.get("/training/").content.decode()
    table = html[html.index('id="committed-models"'):]
    table = table[:table.index("</section>")]
    for name in ("descriptor-fmnist_cnn.pt", "descriptor-robust.pt", "sketch-encoder.pt", "sketch-gan.pt",
                 "enhancer-denoiser.pt", "enhancer-restorer.pt"):
        assert f"<code>{name}</code>" in table, name
    assert f'<span class="metric-name">P@5</span> {committed["P@5"]}' in table and "sketch_P@5" in table
    assert "fmnist_cnn" in table and "srcnn" in table and "2.0\xa0KB" in table
    row = table[table.index('id="model-composites-encoder-stampspt"'):]
    assert "<small>on tuxpaint-stamps</small>" in row[:row.index("</tr>")]  # what the model learned from
    serving = re.findall(r'<tr id="model-([\w-]+)" class="serving-row">', table)
    assert serving == ["descriptor-testpt"] and table.count("serves searches") == 1


def test_the_account_bar_shows_who_is_signed_in_and_logs_out_by_post(client, staff):
    run = finished()
    for url in ("/training/", run.get_absolute_url()):
        html = client.get(url).content.decode()
        assert '<strong id="account-name">lecturer</strong>' in html
        assert '<form method="post" action="/admin/logout/" class="logout-form">' in html
    response = client.post("/admin/logout/", {"next": "/training/"})
    assert response.status_code == 302 and response["Location"] == "/training/"
    assert "Not signed in." in client.get("/training/").content.decode()


def test_pages_and_api_name_files_without_server_paths(client, staff, committed, settings):
    checkpoint = Path(settings.RETRIEVAL["RUNS_DIR"]) / "run-0042-descriptor.pt"
    run = finished(checkpoint=str(checkpoint), config={"init_from": str(COMMITTED / "descriptor-robust.pt")},
                   error=f"FileNotFoundError: [Errno 2] No such file: '{checkpoint}'",
                   activation="failed", activation_error=f"could not read {checkpoint.with_suffix('.json')}")
    answers = {url: client.get(url).content.decode() for url in (
        "/training/", f"/training/?compare={run.pk}", run.get_absolute_url(), "/api/training/runs/",
        f"/api/training/runs/{run.pk}/")}
    for url, body in answers.items():
        assert not ABSOLUTE.search(body), (url, ABSOLUTE.search(body))
    page = answers[run.get_absolute_url()]
    assert "<code>run-0042-descriptor.pt</code>" in page and "No such file: &#x27;run-0042-descriptor.pt&#x27;" in page
    detail = json.loads(answers[f"/api/training/runs/{run.pk}/"])
    assert detail["checkpoint"] == "run-0042-descriptor.pt"
    assert detail["config"]["init_from"] == "retrieval/checkpoints/descriptor-robust.pt"  # relative to the project
    assert detail["activation_error"] == "could not read run-0042-descriptor.json"


def worse_run(tmp_path) -> TrainingRun:
    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes(b"weights")
    return finished(checkpoint=str(checkpoint))  # P@5 0.6 and accuracy 0.7: below the committed 0.92 / 0.93


def test_a_worse_run_is_flagged_before_activating(client, staff, committed, tmp_path):
    html = client.get(worse_run(tmp_path).get_absolute_url()).content.decode()
    assert 'data-worse="1"' in html and 'id="activate-hint"' in html
    assert " hidden" in opening_tag(html, "activate-confirm")  # shown by JavaScript on submit, or after a post
    box = html[html.index('id="activate-confirm"'):]
    assert f'<span class="metric-name">P@5</span> 0.6 here against {committed["P@5"]}' in box
    assert "train_loss</span>" not in box[:box.index("</ul>")]  # a training loss is no held-out measure


def test_activating_a_worse_run_needs_a_confirm(client, staff, committed, tmp_path):
    run = worse_run(tmp_path)
    response = client.post(f"/training/{run.pk}/activate/")
    assert response.status_code == 200 and TrainingRun.objects.get(pk=run.pk).activation == ""
    html = response.content.decode()
    assert " hidden" not in opening_tag(html, "activate-confirm") and " hidden" in opening_tag(html, "activate-form")
    assert 'name="confirm" value="1"' in html[html.index('id="activate-confirm"'):]
    confirmed = client.post(f"/training/{run.pk}/activate/", {"confirm": "1"})
    assert confirmed.status_code == 302 and TrainingRun.objects.get(pk=run.pk).activation == "queued"


def test_a_better_run_activates_at_once(client, staff, committed, tmp_path):
    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes(b"weights")
    run = finished(checkpoint=str(checkpoint), final_metrics={"epoch": 1, "train_loss": 9.0, "accuracy": 0.95, "P@5": 0.95})
    assert 'data-worse="1"' not in client.get(run.get_absolute_url()).content.decode()
    response = client.post(f"/training/{run.pk}/activate/")
    assert response.status_code == 302 and TrainingRun.objects.get(pk=run.pk).activation == "queued"


def test_the_confirm_step_is_only_for_staff(client, committed, tmp_path):
    run = worse_run(tmp_path)
    assert client.post(f"/training/{run.pk}/activate/").status_code == 403
    assert client.post(f"/training/{run.pk}/activate/", {"confirm": "1"}).status_code == 403
