"""The training centre's pages and JSON API through Django's test client: who may do what,
validation messages, the server-rendered run page (no JavaScript needed), the comparison."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from retrieval.models import TrainingRun
from retrieval.training.presenters import eta_text, loss_summary
from retrieval.training.progress import Curve
from retrieval.training.selectors import training_comparison
from tests.web.conftest import QUICK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("idle_worker")]
LIST = "/training/"
API = "/api/training/runs/"
CURVE = [{"step": s, "losses": {"cross_entropy": 2.3 - s * 0.1, "aux": 1.0}} for s in range(1, 11)]


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user("lecturer", password="pw", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def member(client):
    user = get_user_model().objects.create_user("member", password="pw")
    client.force_login(user)
    return user


def finished(**kwargs) -> TrainingRun:
    values = {"family": "descriptor", "status": "finished", "config": {**QUICK, "lr": 0.003},
              "final_metrics": {"epoch": 1, "train_loss": 1.5, "accuracy": 0.7, "P@5": 0.6}, "curve": CURVE,
              "history": [{"epoch": 1, "train_loss": 1.5, "accuracy": 0.7, "P@5": 0.6}],
              "progress": {"step": 10, "total_steps": 10, "epoch": 1, "epochs": 1, "losses": {}, "images_per_s": 500, "eta_s": 0}}
    return TrainingRun.objects.create(**{**values, **kwargs})


def form_data(**overrides) -> dict:
    data = {"family": "descriptor", "arch": "fmnist_cnn", "epochs": "1", "batch_size": "64", "lr": "0.003",
            "weight_decay": "0.0005", "label_smoothing": "0.1", "subset": "200", "seed": "0", "device": "cpu",
            "eval_queries": "100", "public": "on"}
    return {**data, **overrides}


# --- pages -------------------------------------------------------------------------------

def test_visitors_see_public_runs_but_no_start_form(client):
    public, private = finished(), finished(public=False)
    html = client.get(LIST).content.decode()
    assert f'href="/training/{public.pk}/"' in html and f'href="/training/{private.pk}/"' not in html
    assert 'id="train-form"' not in html and "log in" in html
    assert 'href="/training/"' in html  # the nav link
    assert client.get(reverse("retrieval:training-run", args=[public.pk])).status_code == 200
    assert client.get(reverse("retrieval:training-run", args=[private.pk])).status_code == 404
    assert client.get("/training/999999/").status_code == 404


@pytest.mark.parametrize("who", [None, "member"])
def test_only_staff_may_start_cancel_or_activate(client, request, who):
    if who:
        request.getfixturevalue(who)
    run = finished()
    for url, data in [(LIST, form_data()), (f"/training/{run.pk}/cancel/", {}), (f"/training/{run.pk}/activate/", {}),
                      ("/training/default/", {})]:
        response = client.post(url, data)
        assert response.status_code == 403 and "Staff only" in response.content.decode(), url
    assert TrainingRun.objects.count() == 1


def test_staff_get_a_form_generated_from_the_config(client, staff):
    html = client.get(LIST).content.decode()
    assert 'id="train-form"' in html
    for name in ("epochs", "batch_size", "lr", "subset", "device", "arch", "augment", "eval_queries"):
        assert f'id="id_{name}"' in html, name
    assert '<option value="cuda"' in html and "More options" in html


def test_starting_from_the_form_queues_a_run_and_shows_its_page(client, staff):
    response = client.post(LIST, form_data())
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/training/{run.pk}/"
    assert run.status == "queued" and run.requested_by == staff and run.origin == "web" and run.public
    assert run.config["subset"] == 200 and run.config["augment"] is False and run.config["device"] == "cpu"
    html = client.get(response["Location"]).content.decode()
    assert 'id="run-status"' in html and "Queued" in html and "place <strong id=\"queue-position\">1</strong>" in html
    assert 'id="cancel-form"' in html and 'data-ws="/ws/training/' in html


@pytest.mark.parametrize(("overrides", "messages"), [
    ({"epochs": "-2"}, ["epochs must be at least 1"]),
    ({"batch_size": "0", "device": "tpu"}, ["batch size must be at least 1", "Select a valid choice"]),
    ({"epochs": "ten"}, ["epochs: &#x27;ten&#x27; is not a whole number"]),
    ({"subset": "5"}, ["subset must hold at least 10 images"]),
    ({"lr": ""}, ["lr needs a value"]),
])
def test_invalid_values_are_explained_and_nothing_starts(client, staff, overrides, messages):
    response = client.post(LIST, form_data(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert all(message in html for message in messages), html[html.find("train-errors"):][:2000]
    assert not TrainingRun.objects.exists()


def test_a_gpu_where_there_is_none_is_refused(client, staff):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    response = client.post(LIST, form_data(device="cuda"))
    assert response.status_code == 400 and "GPU" in response.content.decode()


def test_unknown_family_is_refused(client, staff):
    response = client.post(LIST, form_data(family="gan"))
    assert response.status_code == 400 and "no model family called" in response.content.decode()


def test_run_page_renders_the_persisted_history_without_javascript(client):
    run = finished()
    html = client.get(run.get_absolute_url()).content.decode()
    table = html[html.index('id="loss-table"'):html.index("</table>", html.index('id="loss-table"'))]
    assert table.count("<tr data-loss=") == 2 and '<tr data-loss="cross_entropy">' in table
    last = table[table.index('<tr data-loss="cross_entropy">'):]
    assert '<td class="loss-last">1.3000</td><td class="loss-step">10</td><td class="loss-lowest">1.3000</td>' in last
    assert 'id="loss-chart"' in html and "uPlot-1.6.32.iife.min.js" in html and "js/charts.js" in html
    assert 'id="epoch-table"' in html and "<td>0.7</td>" in html and "Finished" in html
    assert 'id="run-state"' in html and 'id="activate-form"' not in html  # visitors get no buttons
    assert "10 / 10" in html


def opening_tag(html: str, element_id: str) -> str:
    """The whole start tag of the element with ``element_id`` (whitespace collapsed)."""
    end = html.index(f'id="{element_id}"')
    start = html.rindex("<", 0, end)
    return " ".join(html[start:html.index(">", end) + 1].split())


def test_staff_see_activate_for_a_finished_run_and_cancel_only_while_it_runs(client, staff):
    html = client.get(finished().get_absolute_url()).content.decode()
    assert " hidden" not in opening_tag(html, "activate-form") and " hidden" in opening_tag(html, "cancel-form")
    running = TrainingRun.objects.create(family="descriptor", status="running")
    html = client.get(running.get_absolute_url()).content.decode()
    assert " hidden" in opening_tag(html, "activate-form") and " hidden" not in opening_tag(html, "cancel-form")


def test_cancel_from_the_page(client, staff):
    run = TrainingRun.objects.create(family="descriptor")
    response = client.post(f"/training/{run.pk}/cancel/")
    assert response.status_code == 302 and TrainingRun.objects.get(pk=run.pk).status == "cancelled"
    again = client.post(f"/training/{run.pk}/cancel/", follow=True)
    assert "already ended" in again.content.decode()


def test_the_list_compares_runs_side_by_side(client):
    a = finished(config={**QUICK, "lr": 0.001})
    b = finished(config={**QUICK, "lr": 0.01}, final_metrics={"accuracy": 0.8, "P@5": 0.5, "train_loss": 1.2})
    html = client.get(LIST, {"compare": [a.pk, b.pk]}).content.decode()
    table = html[html.find('id="comparison"'):]
    assert f">#{a.pk}</a>" in table and f">#{b.pk}</a>" in table
    assert '<tr class="differs"><th>lr</th><td>0.001</td><td>0.01</td>' in table
    assert '<td class="best">0.8</td>' in table and '<td class="best">0.6</td>' in table and '<td class="best">1.2</td>' in table


# --- API -----------------------------------------------------------------------------------

def test_api_lists_public_runs_and_details_with_the_curve(client):
    public, _private = finished(), finished(public=False)
    body = client.get(API).json()
    assert [r["id"] for r in body["results"]] == [public.pk]
    assert "curve" not in body["results"][0] and body["results"][0]["ws_path"] == f"/ws/training/{public.pk}/"
    detail = client.get(f"{API}{public.pk}/").json()
    assert detail["curve"] == CURVE and detail["status"] == "finished" and detail["final_metrics"]["P@5"] == 0.6
    missing = client.get(f"{API}{_private.pk}/")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_api_start_needs_staff(client, member):
    response = client.post(API, {"family": "descriptor", "config": QUICK}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"


def test_api_starts_a_run(client, staff):
    response = client.post(API, {"family": "descriptor", "config": QUICK, "public": False}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["origin"] == "api" and body["public"] is False
    assert body["config"]["subset"] == 200 and body["requested_by"] == "lecturer"


@pytest.mark.parametrize(("payload", "fragments", "fields"), [
    ({"family": "descriptor", "config": {"epochs": -1, "batch_size": 0}},
     ["epochs must be at least 1.", "batch size must be at least 1."], set()),
    ({"family": "descriptor", "config": {"epochs": "ten", "device": "tpu"}},
     ["epochs: 'ten' is not a whole number.", "unknown device 'tpu'"], {"epochs"}),
    ({"family": "descriptor", "config": {"colour": "red"}}, ["unknown option 'colour'"], set()),
    ({"family": "gan", "config": {}}, ["unknown model family 'gan'"], {"family"}),
    ({"config": {}}, ["family: This field is required."], {"family"}),
])
def test_api_rejects_invalid_configs_with_the_same_messages(client, staff, payload, fragments, fields):
    response = client.post(API, payload, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request" and all(f in body["detail"] for f in fragments), body
    assert set(body.get("fields", {})) == fields
    assert not TrainingRun.objects.exists()


def test_api_cancel_and_activate(client, staff):
    queued = TrainingRun.objects.create(family="descriptor")
    response = client.post(f"{API}{queued.pk}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    conflict = client.post(f"{API}{queued.pk}/cancel/")
    assert conflict.status_code == 409 and conflict.json()["error"] == "conflict"
    not_finished = client.post(f"{API}{queued.pk}/activate/")
    assert not_finished.status_code == 409 and "Only a finished run" in not_finished.json()["detail"]
    assert client.post(f"{API}999999/cancel/").status_code == 404


def test_api_lists_families_with_their_options(client):
    families = client.get("/api/training/families/").json()
    descriptor = next(f for f in families if f["name"] == "descriptor")
    options = {o["name"]: o for o in descriptor["options"]}
    assert options["epochs"]["type"] == "int" and options["epochs"]["default"] == 15
    assert options["device"]["choices"] == ["auto", "cpu", "cuda"] and options["subset"]["optional"] is True


def test_schema_describes_the_training_endpoints(client):
    import json

    schema = json.loads(client.get(reverse("api:schema"), {"format": "json"}).content)
    assert {"/api/training/runs/", "/api/training/runs/{id}/", "/api/training/runs/{id}/cancel/",
            "/api/training/runs/{id}/activate/", "/api/training/families/"} <= set(schema["paths"])


# --- pure pieces ---------------------------------------------------------------------------

def test_curve_stays_bounded_and_evenly_thinned():
    curve = Curve(limit=100)
    for step in range(1, 1001):
        curve.add({"step": step, "losses": {"l": 1.0 / step}})
    points = curve.snapshot()
    steps = [p["step"] for p in points]
    assert len(points) <= 101 and steps[-1] == 1000 and steps == sorted(steps)
    gaps = {b - a for a, b in zip(steps[:-1], steps[1:-1], strict=False)}
    assert len(gaps) == 1  # one stride


def test_loss_summary_gives_each_term_its_latest_and_lowest_value():
    rows = loss_summary([*CURVE, {"step": 11, "losses": {"aux": 1.5}}])
    assert [row["name"] for row in rows] == ["aux", "cross_entropy"]
    assert rows[0] == {"name": "aux", "colour": rows[0]["colour"], "step": 11, "last": 1.5, "lowest": 1.0}
    assert rows[1]["step"] == 10 and rows[1]["lowest"] == pytest.approx(1.3)
    assert loss_summary([]) == []


@pytest.mark.parametrize(("progress", "ended", "text"), [
    ({"step": 0, "eta_s": None}, False, "—"),
    ({"step": 5, "eta_s": 30.0, "phase": "training"}, False, "30 s + evaluation"),
    ({"step": 5, "eta_s": 130.0, "phase": "training", "eta_covers_evaluation": True}, False, "2 min 10 s"),
    ({"step": 10, "eta_s": None, "phase": "evaluating"}, False, "no estimate yet"),
    ({"step": 10, "eta_s": 40.0, "phase": "evaluating", "phase_since": 0.0}, False, "any moment now"),
    ({"step": 10, "eta_s": 40.0}, True, "—"),
])
def test_eta_says_what_it_covers(progress, ended, text):
    assert eta_text(progress, ended=ended) == text


def test_comparison_marks_differences_and_best_values():
    a = TrainingRun(pk=1, config={"lr": 0.1, "epochs": 2}, final_metrics={"P@5": 0.5, "train_loss": 2.0})
    b = TrainingRun(pk=2, config={"lr": 0.2, "epochs": 2}, final_metrics={"P@5": 0.7, "train_loss": 1.0})
    table = training_comparison([a, b])
    rows = {row["name"]: row for row in table["config_rows"]}
    assert rows["lr"]["differs"] and not rows["epochs"]["differs"]
    metrics = {row["name"]: [cell["best"] for cell in row["cells"]] for row in table["metric_rows"]}
    assert metrics == {"P@5": [False, True], "train_loss": [False, True]}
