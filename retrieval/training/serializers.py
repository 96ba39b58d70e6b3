"""The training centre's API shapes: runs, their creation, and the trainer families with their options."""

from django.urls import reverse
from rest_framework import serializers

from retrieval.core.serializers import AbsoluteUrlField
from retrieval.models import TrainingRun
from retrieval.training.presenters import public_config, public_path, without_paths


def training_run_api_url(run) -> str:
    return reverse("api:training-run", args=[run.pk])


class TrainingRunSerializer(serializers.ModelSerializer):
    """One run, as listed; the detail adds the loss curve (``TrainingRunDetailSerializer``)."""

    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = AbsoluteUrlField(training_run_api_url)
    page_url = AbsoluteUrlField(lambda run: run.get_absolute_url(), help_text="The run's live page.")
    ws_path = serializers.SerializerMethodField(help_text="Websocket path streaming the run's history, then live events.")
    seconds = serializers.FloatField(read_only=True, allow_null=True, help_text="Wall time from start to end (or now).")
    # Where the server keeps files is its own business: name them relative to their folder.
    config = serializers.SerializerMethodField(help_text="The run's configuration, every option's value.")
    checkpoint = serializers.SerializerMethodField(help_text="The checkpoint's file name, relative to the runs folder.")
    error = serializers.SerializerMethodField(help_text="Why the run failed or stopped, if it did.")
    activation_error = serializers.SerializerMethodField(help_text="Why its activation failed, if it did.")

    class Meta:
        model = TrainingRun
        fields = ("id", "family", "status", "config", "public", "origin", "requested_by", "created", "started", "finished",
                  "seconds", "train_seconds", "device", "progress", "history", "final_metrics", "error", "checkpoint",
                  "checkpoint_id", "cancel_requested", "activation", "activation_progress", "activation_error",
                  "url", "page_url", "ws_path")
        read_only_fields = fields

    def get_ws_path(self, run) -> str:
        return f"/ws/training/{run.pk}/"

    def get_config(self, run) -> dict:
        return public_config(run.config)

    def get_checkpoint(self, run) -> str:
        return public_path(run.checkpoint)

    def get_error(self, run) -> str:
        return without_paths(run.error)

    def get_activation_error(self, run) -> str:
        return without_paths(run.activation_error)


class TrainingRunDetailSerializer(TrainingRunSerializer):
    class Meta(TrainingRunSerializer.Meta):
        fields = (*TrainingRunSerializer.Meta.fields, "curve", "samples")
        read_only_fields = fields


class TrainingRunCreateSerializer(serializers.Serializer):
    """Schema of a start request; the configuration is checked by the family's own rules."""

    family = serializers.CharField(help_text="A model family, e.g. descriptor (see /api/training/families/).")
    config = serializers.DictField(required=False, default=dict,
                                   help_text="Option values; options left out keep their defaults.")
    public = serializers.BooleanField(required=False, default=True, help_text="Visitors who are not staff may watch it.")


class TrainerOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(source="kind.__name__")
    optional = serializers.BooleanField()
    default = serializers.JSONField()
    help = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    advanced = serializers.BooleanField()


class TrainerSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    produces = serializers.CharField()
    generative = serializers.BooleanField()
    options = TrainerOptionSerializer(many=True)
