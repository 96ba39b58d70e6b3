"""API shapes: what each endpoint returns, the image-list query parameters, and (for the
OpenAPI schema only) what the search accepts.

The search and neighbours inputs are validated by the Django forms in forms.py, so the
page and the API share one set of rules; the request serializers here merely describe
those rules, built from the forms' own constants so the two cannot drift apart.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .engine.sketch.search import SKETCH_MODES
from .forms import DEFAULT_K, DEFAULT_METRIC, METRIC_CHOICES, max_k
from .models import Gallery, GalleryImage, TrainingRun
from .presenters import png_data_url

# --- links -----------------------------------------------------------------------------


def gallery_api_url(gallery: Gallery) -> str:
    return reverse("api:gallery", args=[gallery.slug])


def gallery_images_api_url(gallery: Gallery) -> str:
    return reverse("api:gallery-images", args=[gallery.slug])


def image_api_url(image: GalleryImage) -> str:
    return reverse("api:image", args=[image.pk])


def image_neighbours_api_url(image: GalleryImage) -> str:
    return reverse("api:image-neighbours", args=[image.pk])


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteUrlField(serializers.Field):
    """A read-only absolute link, ``url_of(obj)`` resolved against the request's host."""

    def __init__(self, url_of, **kwargs):
        self.url_of = url_of
        kwargs.setdefault("source", "*")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        request = self.context.get("request")
        url = self.url_of(value)
        return request.build_absolute_uri(url) if request is not None else url


# --- galleries and images --------------------------------------------------------------


class GallerySerializer(serializers.ModelSerializer):
    class_names = serializers.ListField(child=serializers.CharField(), read_only=True,
                                        help_text="Label names, indexed by label number.")
    image_count = serializers.IntegerField(read_only=True, help_text="Gallery and query images together.")
    url = AbsoluteUrlField(gallery_api_url)
    images_url = AbsoluteUrlField(gallery_images_api_url)
    page_url = AbsoluteUrlField(Gallery.get_absolute_url)

    class Meta:
        model = Gallery
        fields = ("slug", "name", "description", "class_names", "image_count", "url", "images_url", "page_url")
        read_only_fields = fields


class GalleryImageSerializer(serializers.ModelSerializer):
    gallery = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    label_name = serializers.CharField(read_only=True)
    image_url = AbsoluteUrlField(lambda image: image.file.url)
    detail_url = AbsoluteUrlField(GalleryImage.get_absolute_url, help_text="The image's page.")
    api_url = AbsoluteUrlField(image_api_url)
    neighbours_url = AbsoluteUrlField(image_neighbours_api_url)

    class Meta:
        model = GalleryImage
        fields = ("id", "gallery", "split", "label", "label_name", "width", "height", "source_index",
                  "image_url", "detail_url", "api_url", "neighbours_url")
        read_only_fields = fields


class ImageListParamsSerializer(serializers.Serializer):
    """Query parameters of a gallery's image list; needs ``gallery`` in its context."""

    split = serializers.ChoiceField(
        choices=GalleryImage.Split.choices, default=GalleryImage.Split.TRAIN,
        error_messages={"invalid_choice": f'"{{input}}" is not a split; choose one of: {", ".join(GalleryImage.Split.values)}.'},
    )
    label = serializers.IntegerField(required=False, help_text="Only images of this class number.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gallery = self.context.get("gallery")  # absent while the schema is generated
        if gallery is not None:
            self.choices = ", ".join(f"{i}={name}" for i, name in enumerate(gallery.class_names))
            self.fields["label"].error_messages["invalid"] = f"Not a class number; choose one of {self.choices}."

    def validate_label(self, value: int) -> int:
        if not 0 <= value < len(self.context["gallery"].class_names):
            raise serializers.ValidationError(f"{value} is not a class of this gallery; choose one of {self.choices}.")
        return value

    def to_internal_value(self, data):
        # A bare "label=" means "no filter", as in the page's dropdown.
        if hasattr(data, "get") and data.get("label") == "":
            data = {key: value for key, value in data.items() if key != "label"}
        return super().to_internal_value(data)


# --- search results --------------------------------------------------------------------


class ResultSerializer(serializers.Serializer):
    """One ``services.ResultItem``: a gallery image, its rank and why it is close."""

    rank = serializers.IntegerField()
    id = serializers.IntegerField(source="image.pk")
    label = serializers.IntegerField(source="image.label", allow_null=True)
    label_name = serializers.CharField(source="image.label_name")
    distance = serializers.FloatField(help_text="L2 distance, or 1 - cosine similarity (0 to 2).")
    histogram_distance = serializers.FloatField(help_text="L1 distance of the colour histograms / number of bins.")
    image_url = AbsoluteUrlField(lambda image: image.file.url, source="image")
    detail_url = AbsoluteUrlField(GalleryImage.get_absolute_url, source="image", help_text="The image's page.")
    api_url = AbsoluteUrlField(image_api_url, source="image")


class QuerySummarySerializer(serializers.Serializer):
    """The decoded query image (an ``engine.runtime.QueryResult``), as the engine read it."""

    width = serializers.IntegerField(source="decoded.image.width", help_text="After EXIF rotation.")
    height = serializers.IntegerField(source="decoded.image.height")
    format = serializers.CharField(source="decoded.format", help_text="As Pillow names it, e.g. PNG.")
    frames = serializers.IntegerField(source="decoded.frames", help_text="Animated images use their first frame.")
    colour = serializers.BooleanField(source="decoded.is_colour")
    inverted = serializers.BooleanField(source="view.inverted",
                                        help_text="Whether the network saw the query with its intensities inverted.")


class SearchResponseSerializer(serializers.Serializer):
    """A ``services.SearchOutcome``."""

    gallery = serializers.CharField(source="gallery.slug")
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    checkpoint_id = serializers.CharField(source="query.checkpoint_id")
    timings_ms = serializers.DictField(child=serializers.FloatField(), help_text="Milliseconds per stage.")
    query = QuerySummarySerializer()
    results = ResultSerializer(many=True, help_text="Closest first.")


class NeighboursResponseSerializer(serializers.Serializer):
    image = GalleryImageSerializer()
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    results = ResultSerializer(many=True, help_text="Closest first; never the image itself.")


class SketchSummarySerializer(serializers.Serializer):
    """The decoded drawing, as the engine read it."""

    width = serializers.IntegerField(source="decoded.image.width")
    height = serializers.IntegerField(source="decoded.image.height")
    format = serializers.CharField(source="decoded.format", help_text="As Pillow names it, e.g. PNG.")


class SketchSearchResponseSerializer(serializers.Serializer):
    """A ``sketch_services.SketchOutcome``."""

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


# --- schema-only descriptions of the forms' inputs -------------------------------------


class NeighboursParamsSerializer(serializers.Serializer):
    k = serializers.IntegerField(required=False, default=DEFAULT_K, min_value=1, max_value=max_k())
    metric = serializers.ChoiceField(choices=METRIC_CHOICES, required=False, default=DEFAULT_METRIC)


class SearchRequestSerializer(NeighboursParamsSerializer):
    image = serializers.FileField(required=False, help_text="The query image (PNG, JPEG, GIF, WebP, BMP, TIFF).")
    image_data = serializers.CharField(required=False, help_text="Or the image as a base64 data: URL.")
    gallery = serializers.SlugField(required=False, help_text="Gallery slug; the default gallery when omitted.")


class SketchSearchRequestSerializer(SearchRequestSerializer):
    image = serializers.FileField(required=False, help_text="The drawing (PNG or any image): dark lines on light "
                                                            "paper or the reverse, any size.")
    image_data = serializers.CharField(required=False, help_text="Or the drawing as a base64 data: URL (or bare base64).")
    mode = serializers.ChoiceField(choices=list(SKETCH_MODES), required=False,
                                   help_text="How the sketch becomes a descriptor (see /api/sketch/modes/); "
                                             "the portal's default when omitted.")


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A stable code, e.g. invalid_request, invalid_image, not_found.")
    detail = serializers.CharField(help_text="A sentence fit to show a user.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Messages per input field, for validation errors.")


# --- training runs -----------------------------------------------------------------------


def training_run_api_url(run) -> str:
    return reverse("api:training-run", args=[run.pk])


class TrainingRunSerializer(serializers.ModelSerializer):
    """One run, as listed; the detail adds the loss curve (``TrainingRunDetailSerializer``)."""

    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = AbsoluteUrlField(training_run_api_url)
    page_url = AbsoluteUrlField(lambda run: run.get_absolute_url(), help_text="The run's live page.")
    ws_path = serializers.SerializerMethodField(help_text="Websocket path streaming the run's history, then live events.")
    seconds = serializers.FloatField(read_only=True, allow_null=True, help_text="Wall time from start to end (or now).")

    class Meta:
        model = TrainingRun
        fields = ("id", "family", "status", "config", "public", "origin", "requested_by", "created", "started", "finished",
                  "seconds", "train_seconds", "device", "progress", "history", "final_metrics", "error", "checkpoint",
                  "checkpoint_id", "cancel_requested", "activation", "activation_progress", "activation_error",
                  "url", "page_url", "ws_path")
        read_only_fields = fields

    def get_ws_path(self, run) -> str:
        return f"/ws/training/{run.pk}/"


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
