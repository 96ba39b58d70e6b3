"""The training centre's pages: the runs list (with the start form and the side-by-side
comparison) and a run's live page. Staff start, cancel and activate runs; everyone else may
watch public runs. Each action is a real form post that redirects back, so the pages work
without JavaScript; static/js/training.js makes the run page live over its websocket."""

from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from retrieval.core.errors import user_error
from retrieval.engine.errors import EngineError
from retrieval.engine.options import config_options
from retrieval.engine.training.registry import TRAINERS, get_trainer
from retrieval.models import TrainingRun
from retrieval.training import selectors
from retrieval.training import services as training_services
from retrieval.training.forms import TrainingStartForm
from retrieval.training.presenters import eta_text, loss_summary, public_config, public_path

COMPARE_DEFAULT = 4  # finished runs compared when none are picked
DEFAULT_FAMILY = "descriptor"  # the form the page opens with: the model every search uses


def staff_required(view):
    """Staff only: others get a 403 page that says how to log in."""
    @wraps(view)
    def check(request, *args, **kwargs):
        if not request.user.is_staff:
            return render(request, "error.html", {"title": "Staff only", "code": 403, "message":
                          "Only staff members can start, stop or activate training runs. Log in at /admin/ first."},
                          status=403)
        return view(request, *args, **kwargs)
    return check


def training_list(request):
    if request.method == "POST":
        return _start(request)
    family = request.GET.get("family")
    form = TrainingStartForm(family=family if family in TRAINERS else DEFAULT_FAMILY)
    return _render_list(request, form, status=200)


@staff_required
def _start(request):
    family = request.POST.get("family")
    if family not in TRAINERS:
        return _render_list(request, TrainingStartForm(family=DEFAULT_FAMILY), status=400,
                            problem=f"There is no model family called {family!r}.")
    form = TrainingStartForm(request.POST, family=family)
    if not form.is_valid():
        return _render_list(request, form, status=400)
    run = training_services.training_run_start(family=family, values=form.config_values(), requested_by=request.user,
                                               public=form.cleaned_data["public"])
    return redirect(run)


def _render_list(request, form, *, status: int, problem: str = ""):
    runs = list(selectors.training_runs(user=request.user)[:200])
    picked = {int(v) for v in request.GET.getlist("compare") if v.isdigit()}
    finished = [r for r in runs if r.status == TrainingRun.Status.FINISHED]
    compared = sorted([r for r in runs if r.pk in picked] or finished[:COMPARE_DEFAULT], key=lambda r: r.pk)
    positions = selectors.queue_positions()
    for run in runs:
        run.queue_position = positions.get(run.pk)
        run.summary = _summary(run)
    context = {"runs": runs, "form": form, "problem": problem, "families": [get_trainer(n) for n in TRAINERS.names()],
               "comparison": selectors.training_comparison(compared) if compared else None,
               "active_run": selectors.active_run_id(), "picked": picked, "committed": selectors.committed_models()}
    return render(request, "retrieval/training/list.html", context, status=status)


def _summary(run: TrainingRun) -> list[tuple[str, object]]:
    """The run's main settings (its family's options not marked advanced)."""
    config = public_config(run.config)
    if run.family not in TRAINERS:
        return list(config.items())
    names = [opt.name for opt in config_options(get_trainer(run.family).config_cls) if not opt.advanced]
    return [(name, config[name]) for name in names if name in config]


def training_run(request, pk: int):
    return _render_run(request, _visible_run(request, pk))


def _visible_run(request, pk: int) -> TrainingRun:
    run = selectors.training_run_for(user=request.user, pk=pk)
    if run is None:
        raise Http404("There is no such training run (or it is not public).")
    return run


def _render_run(request, run: TrainingRun, *, confirming: bool = False):
    spec = get_trainer(run.family) if run.family in TRAINERS else None
    can_activate = bool(spec and spec.produces == "descriptor")
    context = {"run": run, "spec": spec, "state": selectors.training_run_state(run), "confirming": confirming,
               "losses": loss_summary(run.curve), "eta": eta_text(run.progress, ended=run.ended),
               "checkpoint_name": public_path(run.checkpoint), "active": selectors.active_run_id() == run.pk,
               "epochs": run.progress.get("epochs") or run.config.get("epochs"), "can_activate": can_activate,
               "worse": selectors.activation_warnings(run) if can_activate and run.status == TrainingRun.Status.FINISHED else [],
               "metric_names": list(dict.fromkeys(k for row in run.history for k in row if k != "epoch"))}
    return render(request, "retrieval/training/run.html", context)


def _act(request, run: TrainingRun, action, done: str):
    try:
        action(run=run)
    except training_services.RunConflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done.format(pk=run.pk))
    return redirect(run)


@require_POST
@staff_required
def training_cancel(request, pk: int):
    return _act(request, _visible_run(request, pk), training_services.training_run_cancel,
                "Run #{pk}: cancelled, or stopping at its next step.")


@require_POST
@staff_required
def training_activate(request, pk: int):
    """Activate a run; one that measures worse than the serving checkpoint needs ``confirm=1``
    (without it the page comes back with the comparison and a confirm button)."""
    run = _visible_run(request, pk)
    if request.POST.get("confirm") != "1" and run.status == TrainingRun.Status.FINISHED and selectors.activation_warnings(run):
        return _render_run(request, run, confirming=True)
    return _act(request, run, training_services.training_run_activate,
                "Run #{pk}: activation queued; searches switch once its index is built.")


@require_POST
@staff_required
def training_reset(request):
    try:
        training_services.serving_checkpoint_reset()
    except EngineError as error:
        messages.error(request, user_error(error).message)
    else:
        messages.success(request, "Searches use the committed default checkpoint again.")
    return redirect("retrieval:training")
