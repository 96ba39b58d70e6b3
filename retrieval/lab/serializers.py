"""The lab API's shapes: a query compared by every descriptor (one column each, with the
query's significance map), and a gallery's embedding map in one descriptor's space."""

from rest_framework import serializers

from retrieval.core.api import UploadField
from retrieval.core.serializers import ResponseSerializer, ResultSerializer
from retrieval.engine.lab.index import LAB_METRICS
from retrieval.engine.nets.imagenet import BACKBONES

from .forms import LAB_DEFAULT_K, LAB_MAX_K
from .queries import COLUMNS


class LabResultSerializer(ResultSerializer):
    distance = serializers.FloatField(help_text="The column's distance: L1 / dims, L2, or 1 - cosine similarity.")


class LabColumnSerializer(serializers.Serializer):
    descriptor = serializers.ChoiceField(choices=list(COLUMNS), source="name")
    title = serializers.CharField()
    dim = serializers.IntegerField()
    ms = serializers.FloatField(help_text="This descriptor's search and explanations, in milliseconds.")
    precision = serializers.FloatField(allow_null=True, help_text="P@k against the query's class (null: unlabelled query).")
    mean_histogram_distance = serializers.FloatField(help_text="Mean histogram distance of the results (lower: closer).")
    query_xy = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2,
                                     help_text="Where the query falls on this descriptor's embedding map (/api/lab/embedding/).")
    results = LabResultSerializer(many=True, source="items", help_text="Closest first.")


class SignificanceSerializer(serializers.Serializer):
    grid = serializers.ListField(child=serializers.IntegerField(), help_text="The last stage's grid, e.g. [7, 7].")
    significant = serializers.IntegerField(help_text="How many cells are significant.")
    cells = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                  help_text="[row, column] of each significant cell.")
    overlay = serializers.CharField(help_text="PNG data URL: the query as the network saw it, significant cells outlined.")


class LabResponseSerializer(ResponseSerializer):
    gallery = serializers.CharField()
    backbone = serializers.CharField()
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=list(LAB_METRICS))
    query_id = serializers.IntegerField(allow_null=True, help_text="The gallery image queried (left out of its results).")
    extract_ms = serializers.FloatField(help_text="The one forward pass that gives every lab descriptor, in milliseconds.")
    significance = SignificanceSerializer()
    columns = LabColumnSerializer(many=True, help_text="One per descriptor: gap, conv, fc, fc_conv, hist.")


class LabRequestSerializer(serializers.Serializer):
    """A lab query: an image (a file, a data URL or a gallery image's id), k, the distance and the gallery."""

    image = UploadField(required=False, help_text="The image (PNG, JPEG, GIF, WebP, BMP, TIFF).")
    image_data = serializers.CharField(required=False, help_text="Or the image as a base64 data: URL.")
    example = serializers.IntegerField(required=False, help_text="Or a gallery image's id (left out of its results).")
    k = serializers.IntegerField(required=False, default=LAB_DEFAULT_K, min_value=1, max_value=LAB_MAX_K)
    metric = serializers.ChoiceField(choices=list(LAB_METRICS), required=False, default="l1",
                                     help_text="l1: L1 / dims (the paper's); l2; cosine.")
    gallery = serializers.SlugField(required=False, help_text="Gallery slug; the stamps gallery when omitted.")


class EmbeddingSerializer(serializers.Serializer):
    gallery = serializers.CharField()
    backbone = serializers.ChoiceField(choices=BACKBONES.names())
    descriptor = serializers.ChoiceField(choices=list(COLUMNS))
    method = serializers.CharField(help_text="pca: the first two principal axes (numpy SVD).")
    explained_variance = serializers.ListField(child=serializers.FloatField(), help_text="Share of variance on each axis.")
    gallery_items = serializers.IntegerField(help_text="Items in the index.")
    points = serializers.IntegerField(help_text="Points on the map (a seeded sample of at most 5,000).")
    classes = serializers.DictField(child=serializers.CharField(), help_text="Label number -> class name.")
    x = serializers.ListField(child=serializers.FloatField())
    y = serializers.ListField(child=serializers.FloatField())
    id = serializers.ListField(child=serializers.IntegerField(), help_text="Gallery image ids, one per point.")
    label = serializers.ListField(child=serializers.IntegerField(), help_text="Classes, one per point (-1: unlabelled).")


class EmbeddingParamsSerializer(serializers.Serializer):
    gallery = serializers.SlugField(required=False, help_text="Gallery slug; the stamps gallery when omitted.")
    descriptor = serializers.ChoiceField(choices=list(COLUMNS), required=False, default="fc_conv")
    backbone = serializers.ChoiceField(choices=BACKBONES.names(), required=False, default="efficientnet_lite0")
