"""The texture query endpoint's request and response, for the OpenAPI schema."""

from rest_framework import serializers

from retrieval.core.api import UploadField
from retrieval.core.serializers import ResultSerializer

from .forms import BITS, DEFAULT_BITS


def bit_string(code) -> str:
    return "".join(map(str, code.tolist()))


class TextureRequestSerializer(serializers.Serializer):
    image = UploadField(required=False, help_text="a texture image to search with")
    image_data = serializers.CharField(required=False, help_text="the image as a base64 data URL")
    example = serializers.IntegerField(required=False, help_text="a gallery texture's id instead of an image: "
                                                                 "the response then has its precision-recall curve")
    box = serializers.CharField(required=False, help_text="left,top,width,height in the image's pixels "
                                                          "(blank: a centred square)")
    bits = serializers.ChoiceField(choices=BITS, required=False, default=DEFAULT_BITS, help_text="the code length")
    k = serializers.IntegerField(required=False, min_value=1, max_value=100)


class TextureHitSerializer(serializers.Serializer):
    result = ResultSerializer(source="item")
    hamming = serializers.SerializerMethodField(help_text="bits that differ from the query's code")
    code = serializers.SerializerMethodField(help_text="the hit's code, one character per bit")

    def get_hamming(self, hit) -> int:
        return int(round(hit.item.distance))

    def get_code(self, hit) -> str:
        return bit_string(hit.code)


class CurveSerializer(serializers.Serializer):
    radius = serializers.ListField(child=serializers.IntegerField())
    precision = serializers.ListField(child=serializers.FloatField())
    recall = serializers.ListField(child=serializers.FloatField())


class TextureResponseSerializer(serializers.Serializer):
    bits = serializers.IntegerField()
    box = serializers.SerializerMethodField(help_text="the box searched: left, top, width, height")
    code = serializers.SerializerMethodField(help_text="the query's code, one character per bit")
    patch = serializers.CharField(source="patch_url", help_text="the 32 px patch the networks coded (PNG data URL)")
    expansion = serializers.CharField(source="expansion_url", allow_null=True,
                                      help_text="the TSN's 64 px expansion of the patch (PNG data URL)")
    checkpoint = serializers.CharField(source="checkpoint_id")
    results = TextureHitSerializer(source="hits", many=True)
    precision_recall = CurveSerializer(source="pr", allow_null=True,
                                       help_text="a gallery texture's query: precision and recall at every radius")
    average_precision = serializers.FloatField(allow_null=True)
    ms = serializers.FloatField()

    def get_box(self, outcome) -> list[int]:
        box = outcome.box
        return [box.left, box.top, box.width, box.height]

    def get_code(self, outcome) -> str:
        return bit_string(outcome.code)
