"""The sketch search's API shapes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from retrieval.core.api import UploadField
from retrieval.core.forms import METRIC_CHOICES
from retrieval.core.presenters import png_data_url
from retrieval.core.serializers import ResponseSerializer, ResultSerializer
from retrieval.engine.sketch.search import SKETCH_MODES
from retrieval.search.serializers import SearchRequestSerializer


class SketchSummarySerializer(ResponseSerializer):
    """The decoded drawing, as the engine read it."""

    width = serializers.IntegerField(source="decoded.width")
    height = serializers.IntegerField(source="decoded.height")
    format = serializers.CharField(source="decoded.format", help_text="As Pillow names it, e.g. PNG.")


class SketchSearchResponseSerializer(ResponseSerializer):
    """The results of a sketch search, with what the portal made of the drawing."""

    gallery = serializers.CharField(source="gallery.slug")
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    mode = serializers.ChoiceField(choices=list(SKETCH_MODES), source="query.mode")
    checkpoint_id = serializers.CharField(source="query.checkpoint_id", help_text="The gallery descriptor's checkpoint.")
    timings_ms = serializers.DictField(child=serializers.FloatField(), source="query.timings_ms",
                                       help_text="Milliseconds per stage: decode, normalise, describe, search.")
    sketch = SketchSummarySerializer(source="query")
    sketch_view = serializers.SerializerMethodField(
        help_text="PNG data URL: the drawing as the models saw it (ink white on black).")
    generated = serializers.SerializerMethodField(
        help_text="PNG data URL: the GAN's image of the sketch (what the portal thinks you drew); null when no "
                  "sketch GAN is trained.")
    results = ResultSerializer(many=True, help_text="Closest first. Histograms compare each result with the GAN's "
                                                    "image, or with the sketch when there is none.")

    @extend_schema_field(OpenApiTypes.STR)
    def get_sketch_view(self, outcome) -> str:
        return png_data_url(outcome.query.view.image)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_generated(self, outcome) -> str | None:
        return png_data_url(outcome.query.generated) if outcome.query.generated is not None else None


class SketchModeSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=f"One of {', '.join(SKETCH_MODES)}.")
    title = serializers.CharField()
    description = serializers.CharField()
    available = serializers.BooleanField(help_text="Whether the mode can run now.")
    reason = serializers.CharField(help_text="Why not, when it cannot (else empty).")


class SketchModesResponseSerializer(serializers.Serializer):
    gallery = serializers.CharField()
    default = serializers.CharField(help_text="The mode used when none is given.")
    modes = SketchModeSerializer(many=True)


class SketchSearchRequestSerializer(SearchRequestSerializer):
    image = UploadField(required=False, help_text="The drawing (PNG or any image): dark lines on light "
                                                            "paper or the reverse, any size.")
    image_data = serializers.CharField(required=False, help_text="Or the drawing as a base64 data: URL (or bare base64).")
    mode = serializers.ChoiceField(choices=list(SKETCH_MODES), required=False,
                                   help_text="How the sketch becomes a descriptor (see /api/sketch/modes/); "
                                             "the portal's default when omitted.")
