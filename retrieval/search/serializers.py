"""The image search's API shapes: the query as the engine read it, and the response."""

from rest_framework import serializers

from retrieval.core.api import UploadField
from retrieval.core.forms import METRIC_CHOICES
from retrieval.core.serializers import NeighboursParamsSerializer, ResponseSerializer, ResultSerializer
from retrieval.photo.services import DESCRIPTOR_MODES


class QuerySummarySerializer(ResponseSerializer):
    """The query image as the portal decoded it."""

    width = serializers.IntegerField(source="decoded.width", help_text="After EXIF rotation.")
    height = serializers.IntegerField(source="decoded.height")
    format = serializers.CharField(source="decoded.format", help_text="As Pillow names it, e.g. PNG.")
    frames = serializers.IntegerField(source="decoded.frames", help_text="Animated images use their first frame.")
    colour = serializers.BooleanField(source="decoded.is_colour")
    inverted = serializers.BooleanField(source="view.inverted",
                                        help_text="Whether the network saw the query with its intensities inverted.")
    found = serializers.BooleanField(source="view.found", default=True,
                                     help_text="Whether an item stood out from the background (else the whole image "
                                               "was used).")
    confidence = serializers.FloatField(source="view.confidence", default=1.0,
                                        help_text="0-1: how cleanly the item stood out from its background.")
    bbox = serializers.ListField(child=serializers.IntegerField(), source="view.bbox", default=None,
                                 help_text="The item's box in query pixels: left, top, right, bottom (exclusive).")


class UnsureSerializer(ResponseSerializer):
    """Whether the query looks like anything in the gallery."""

    unsure = serializers.BooleanField(help_text="True: this doesn't look like anything in the gallery.")
    score = serializers.FloatField(help_text="Nearest distance over the 99th percentile of test queries' nearest "
                                             "distances: above 1 is further than 99% of genuine queries.")
    reason = serializers.CharField(help_text="Empty when sure; otherwise why, as a sentence.")


class SearchResponseSerializer(ResponseSerializer):
    """The results of an image search, closest first, with the query as it was read."""

    gallery = serializers.CharField(source="gallery.slug")
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    checkpoint_id = serializers.CharField(source="query.checkpoint_id")
    descriptor = serializers.ChoiceField(choices=list(DESCRIPTOR_MODES), help_text="The descriptor that searched.")
    unsure = UnsureSerializer(allow_null=True, help_text="Null where the gallery is not one the rule is calibrated for.")
    timings_ms = serializers.DictField(child=serializers.FloatField(), help_text="Milliseconds per stage.")
    search = serializers.ChoiceField(choices=["exact", "hnsw"], source="query.hits.method",
                                     help_text="How the index answered: an exact scan, or (big galleries, once "
                                               "the server has built it) an HNSW graph, recall@10 about 0.998.")
    query = QuerySummarySerializer()
    results = ResultSerializer(many=True, help_text="Closest first.")


class SearchRequestSerializer(NeighboursParamsSerializer):
    image = UploadField(required=False, help_text="The query image (PNG, JPEG, GIF, WebP, BMP, TIFF).")
    image_data = serializers.CharField(required=False, help_text="Or the image as a base64 data: URL.")
    gallery = serializers.SlugField(required=False, help_text="Gallery slug; the default gallery when omitted.")
    descriptor = serializers.ChoiceField(choices=list(DESCRIPTOR_MODES), required=False,
                                         help_text="standard or photo (trained on shop-like photos); the gallery's "
                                                   "default when omitted.")
