"""The galleries' API shapes: galleries, images, the image-list parameters and neighbours."""

from django.urls import reverse
from rest_framework import serializers

from retrieval.core.forms import METRIC_CHOICES
from retrieval.core.serializers import AbsoluteUrlField, ResponseSerializer, ResultSerializer, image_api_url
from retrieval.models import Gallery, GalleryImage


def gallery_api_url(gallery: Gallery) -> str:
    return reverse("api:gallery", args=[gallery.slug])


def gallery_images_api_url(gallery: Gallery) -> str:
    return reverse("api:gallery-images", args=[gallery.slug])


def image_neighbours_api_url(image: GalleryImage) -> str:
    return reverse("api:image-neighbours", args=[image.pk])


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


class NeighboursResponseSerializer(ResponseSerializer):
    image = GalleryImageSerializer()
    k = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=METRIC_CHOICES)
    results = ResultSerializer(many=True, help_text="Closest first; never the image itself.")
