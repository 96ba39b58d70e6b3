"""Training runs: a record of each run, which is also the job queue."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class TrainingRun(models.Model):
    """One training job, from the queue to its end, and what it produced.

    The table is also the job queue: workers claim the oldest queued run with one
    conditional update. ``progress``, ``curve`` and ``history`` are rewritten by the run's
    worker about once a second, so a page opened mid-run can show everything so far.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        INTERRUPTED = "interrupted", "Interrupted"

    class Activation(models.TextChoices):
        NONE = "", "Not activated"
        QUEUED = "queued", "Waiting to activate"
        RUNNING = "running", "Activating"
        DONE = "done", "Activated"
        FAILED = "failed", "Activation failed"

    family = models.CharField(max_length=40)
    config = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    origin = models.CharField(max_length=8, default="web", help_text="web, api or cli")
    public = models.BooleanField(default=True, help_text="Visitors who are not staff may watch it.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="training_runs")
    cancel_requested = models.BooleanField(default=False)
    progress = models.JSONField(default=dict, help_text="The latest step: step, total_steps, epoch, losses, rate, ETA.")
    curve = models.JSONField(default=list, help_text="Loss points [{step, losses}], thinned to a bounded length.")
    history = models.JSONField(default=list, help_text="Metrics of every finished epoch.")
    samples = models.TextField(blank=True, help_text="The latest sample grid (PNG data URL) of a generative model.")
    final_metrics = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    device = models.CharField(max_length=32, blank=True)
    checkpoint = models.CharField(max_length=500, blank=True)
    checkpoint_id = models.CharField(max_length=32, blank=True)
    train_seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=160, blank=True, help_text="host:pid of the process running it.")
    heartbeat = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    activation = models.CharField(max_length=8, choices=Activation.choices, default=Activation.NONE, blank=True)
    activation_progress = models.JSONField(default=dict, help_text="Re-indexing: {done, total}.")
    activation_error = models.TextField(blank=True)
    activation_requested = models.DateTimeField(null=True, blank=True)
    activated = models.DateTimeField(null=True, blank=True)

    ENDED = (Status.FINISHED, Status.FAILED, Status.CANCELLED, Status.INTERRUPTED)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"run #{self.pk} ({self.family}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse("retrieval:training-run", args=[self.pk])

    @property
    def ended(self) -> bool:
        return self.status in self.ENDED

    @property
    def seconds(self) -> float | None:
        """Wall time from start to end (or to now while it runs)."""
        if self.started is None:
            return None
        return round(((self.finished or timezone.now()) - self.started).total_seconds(), 1)
