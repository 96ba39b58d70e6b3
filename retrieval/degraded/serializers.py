"""The degraded-query API shapes: degradations with their parameters, and the three rows of results."""

from rest_framework import serializers

from retrieval.core.api import UploadField
from retrieval.core.forms import DEFAULT_METRIC, METRIC_CHOICES, max_k
from retrieval.core.serializers import ResponseSerializer, ResultSerializer
from retrieval.degraded.forms import DEFAULT_DEGRADATION, DEFAULT_K, MAX_SEED
from retrieval.degraded.services import DESCRIPTOR_MODES
from retrieval.engine.degraded.degradations import DEGRADATIONS


class ParamSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    default = serializers.FloatField(allow_null=True, help_text="null: drawn from the seed unless given.")
    min = serializers.FloatField()
    max = serializers.FloatField()
    step = serializers.FloatField()
    integer = serializers.BooleanField()


class DegradationSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    params = ParamSpecSerializer(many=True)
    enhancer = serializers.CharField(allow_null=True, help_text="The trained enhancer that undoes it (null: none).")


class RowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["original", "degraded", "enhanced"])
    image = serializers.CharField(help_text="PNG data URL of the image searched (the descriptor's input size).")
    results = ResultSerializer(many=True, help_text="Closest first.")


class DegradedResponseSerializer(ResponseSerializer):
    gallery = serializers.CharField()
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    descriptor = serializers.ChoiceField(choices=list(DESCRIPTOR_MODES))
    checkpoint_id = serializers.CharField(help_text="The descriptor's checkpoint.")
    degradation = serializers.CharField()
    params = serializers.DictField(help_text="Every parameter used, random draws included (motion blur's a and b).")
    seed = serializers.IntegerField()
    enhancer = serializers.DictField(allow_null=True, help_text="kind, arch and checkpoint_id; null when none is trained.")
    timings_ms = serializers.DictField(child=serializers.FloatField())
    rows = RowSerializer(many=True, help_text="original, degraded and (when an enhancer is trained) enhanced.")


class DegradedRequestSerializer(serializers.Serializer):
    """A degraded query: the image (a file, a data URL or a gallery image's id), the degradation and its
    parameters, the seed and the descriptor."""

    image = UploadField(required=False, help_text="The image (PNG, JPEG, GIF, WebP, BMP, TIFF).")
    image_data = serializers.CharField(required=False, help_text="Or the image as a base64 data: URL.")
    example = serializers.IntegerField(required=False, help_text="Or a gallery image's id.")
    degradation = serializers.ChoiceField(choices=list(DEGRADATIONS), required=False, default=DEFAULT_DEGRADATION)
    params = serializers.JSONField(required=False, help_text='Parameter values, e.g. {"sigma": 0.2}; the paper\'s '
                                                             "defaults where left out (see /api/degraded/degradations/).")
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_SEED)
    descriptor = serializers.ChoiceField(choices=list(DESCRIPTOR_MODES), required=False, default="standard")
    k = serializers.IntegerField(required=False, default=DEFAULT_K, min_value=1, max_value=max_k())
    metric = serializers.ChoiceField(choices=METRIC_CHOICES, required=False, default=DEFAULT_METRIC)
    gallery = serializers.SlugField(required=False, help_text="Gallery slug; the default gallery when omitted.")
