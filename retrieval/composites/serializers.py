"""The composites query endpoint's request and response, for the OpenAPI schema."""

from rest_framework import serializers

from retrieval.core.api import UploadField
from retrieval.core.serializers import ResultSerializer

from .forms import COMBINE_CHOICES, LAYOUT_CHOICES, TEXTURE_CHOICES


class CompositeRequestSerializer(serializers.Serializer):
    combine = serializers.ChoiceField(choices=COMBINE_CHOICES, required=False, default="blend")
    sources = serializers.CharField(required=False, help_text="2 or 3 gallery image ids, comma-separated")
    alphas = serializers.CharField(required=False, help_text="blend weights, one per source, comma-separated")
    layout = serializers.ChoiceField(choices=LAYOUT_CHOICES, required=False)
    texture = serializers.ChoiceField(choices=TEXTURE_CHOICES, required=False)
    scale = serializers.FloatField(required=False, min_value=0.35, max_value=0.6)
    seed = serializers.IntegerField(required=False, min_value=0)
    image = UploadField(required=False, help_text="a composite to search with (combine=upload)")
    image_data = serializers.CharField(required=False, help_text="the composite as a data URL")
    k = serializers.IntegerField(required=False, min_value=1, max_value=20)
    gallery = serializers.CharField(required=False)


class FoundSerializer(serializers.Serializer):
    result = ResultSerializer(source="item")
    box = serializers.ListField(child=serializers.IntegerField(),
                                help_text="x0, y0, x1, y1 in the composite image (192 px on its longer side)")
    more = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                 help_text="other regions it explains (an image repeated in a collage), as box")
    how = serializers.CharField()
    true = serializers.BooleanField(allow_null=True)


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    recall = serializers.FloatField(allow_null=True)
    results = serializers.SerializerMethodField()
    true = serializers.SerializerMethodField()

    def get_results(self, column) -> list:
        return [ResultSerializer(item, context=self.context).data for item, _ in column.items]

    def get_true(self, column) -> list:
        return [mark for _, mark in column.items]


class CompositeResponseSerializer(serializers.Serializer):
    combine = serializers.CharField()
    hypothesis = serializers.CharField(help_text="what the portal's search found the composite to be")
    composite = serializers.CharField(source="composite_url")
    regions = serializers.CharField(source="regions_url")
    reconstruction = serializers.CharField(source="reconstruction_url", allow_null=True)
    sources = FoundSerializer(source="found", many=True)
    methods = ColumnSerializer(source="columns", many=True)
    true_sources = serializers.SerializerMethodField()
    ms = serializers.FloatField()

    def get_true_sources(self, outcome) -> list[int]:
        return [image.pk for image in outcome.true_sources]
