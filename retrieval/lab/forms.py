"""The lab page's query: an image (upload, paste, data URL) or a gallery image, k and the distance."""

from django import forms

from retrieval.core.forms import ImageSearchForm
from retrieval.engine.lab.index import LAB_METRICS
from retrieval.models import Gallery, GalleryImage

from .services import STAMPS_SLUG

LAB_METRIC_CHOICES = [("l1", "L1 / dims (the paper's)"), ("l2", "L2"), ("cosine", "Cosine")]
assert {m for m, _ in LAB_METRIC_CHOICES} == set(LAB_METRICS)
LAB_DEFAULT_K = 8
LAB_MAX_K = 50


class LabQueryForm(ImageSearchForm):
    """The image search form with the lab's distances; the colour stamps are the default gallery."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["example"] = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
        self.fields["metric"] = forms.ChoiceField(label="Distance", choices=LAB_METRIC_CHOICES, initial="l1", required=False)
        self.fields["k"] = forms.IntegerField(label="Results (k)", initial=LAB_DEFAULT_K, required=False, min_value=1,
                                              max_value=LAB_MAX_K)
        stamps = Gallery.objects.filter(slug=STAMPS_SLUG).exists()
        if stamps and not (self.is_bound and self.data.get("gallery")):
            self.fields["gallery"].initial = STAMPS_SLUG

    def clean_example(self):
        """The labelled gallery image the query came from, if any (its class gives P@k)."""
        pk = self.cleaned_data.get("example")
        if not pk:
            return None
        image = GalleryImage.objects.filter(pk=pk).select_related("gallery").first()
        if image is None:
            raise forms.ValidationError(f"There is no gallery image with id {pk}.")
        return image

    def clean(self):
        """A gallery image named by id (the API, a websocket message) is the query when no
        image of its own was sent; it must belong to the gallery searched."""
        example = self.cleaned_data.get("example")
        own = bool(self.files.get("image")) or bool(self.data.get("image_data"))
        if self.server_image is None and example is not None and not own:
            with example.file.open("rb") as f:
                self.server_image = f.read()
        cleaned = super().clean()
        gallery = cleaned.get("gallery")
        if example is not None and gallery is not None and example.gallery_id != gallery.pk:
            self.add_error("example", f"Image {example.pk} is in the gallery {example.gallery.slug}, not {gallery.slug}.")
        return cleaned

    def clean_k(self):
        return self.cleaned_data["k"] or LAB_DEFAULT_K

    def clean_metric(self):
        return self.cleaned_data["metric"] or "l1"

    def clean_gallery(self):
        if self.cleaned_data.get("gallery") is None:
            stamps = Gallery.objects.filter(slug=STAMPS_SLUG).first()
            if stamps is not None:
                return stamps
        return super().clean_gallery()
