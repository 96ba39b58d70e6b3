"""The composites query: 2-3 gallery images and how to combine them (built on the server, so the
true sources are known), or an uploaded composite; the gallery, k."""

from django import forms

from retrieval.core.forms import SearchParamsForm, decode_data_url, upload_limit_message
from retrieval.engine.composites.builders import LAYOUTS
from retrieval.engine.composites.textures import TEXTURES
from retrieval.models import Gallery

COMBINE_CHOICES = [("blend", "Blend"), ("collage", "Collage"), ("paste", "Paste cut-outs"), ("upload", "Upload a composite")]
LAYOUT_CHOICES = [("", "to fit the images")] + [(name, name.replace("_", " ")) for name in LAYOUTS]
TEXTURE_CHOICES = [(name, name) for name in TEXTURES]
DEFAULT_K, MAX_K = 6, 20
STAMPS = "tuxpaint-stamps"


def _numbers(text: str, label: str) -> list[float]:
    try:
        return [float(part) for part in str(text).replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise forms.ValidationError(f"{label} must be numbers separated by commas.") from None


class CompositeQueryForm(SearchParamsForm):
    combine = forms.ChoiceField(label="Combine", choices=COMBINE_CHOICES, initial="blend", required=False)
    sources = forms.CharField(label="Gallery images", required=False, max_length=100,
                              help_text="2 or 3 gallery image ids, separated by commas")
    alphas = forms.CharField(label="Blend weights", required=False, max_length=60)
    layout = forms.ChoiceField(label="Layout", choices=LAYOUT_CHOICES, required=False)
    texture = forms.ChoiceField(label="Paste on", choices=TEXTURE_CHOICES, initial="noise", required=False)
    scale = forms.FloatField(label="Cut-out size", min_value=0.35, max_value=0.6, initial=0.45, required=False)
    seed = forms.IntegerField(label="Seed", min_value=0, max_value=2**31 - 1, initial=0, required=False)
    image = forms.FileField(label="Composite", required=False)
    image_data = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, image_bytes: bytes | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.server_image = image_bytes
        self.fields["metric"] = forms.ChoiceField(label="Distance", choices=[("l2", "Euclidean")], initial="l2",
                                                  required=False)
        self.fields["k"] = forms.IntegerField(label="Results (k)", initial=DEFAULT_K, required=False, min_value=1,
                                              max_value=MAX_K)
        if Gallery.objects.filter(slug=STAMPS).exists() and not (self.is_bound and self.data.get("gallery")):
            self.fields["gallery"].initial = STAMPS

    def clean_k(self):
        return self.cleaned_data["k"] or DEFAULT_K

    def clean_metric(self):
        return "l2"

    def clean_gallery(self):
        if self.cleaned_data.get("gallery") is None and Gallery.objects.filter(slug=STAMPS).exists():
            return Gallery.objects.get(slug=STAMPS)
        return super().clean_gallery()

    def clean_sources(self) -> list[int]:
        text = self.cleaned_data.get("sources") or ""
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError("Gallery images are named by their ids, separated by commas.")
        ids = [int(p) for p in parts]
        if len(set(ids)) != len(ids):
            raise forms.ValidationError("Pick each gallery image once.")
        return ids

    def clean_alphas(self):
        return _numbers(self.cleaned_data.get("alphas") or "", "Blend weights")

    def clean(self):
        cleaned = super().clean()
        cleaned["combine"] = cleaned.get("combine") or "blend"
        cleaned["scale"] = cleaned.get("scale") or 0.45
        cleaned["seed"] = cleaned.get("seed") or 0
        cleaned["texture"] = cleaned.get("texture") or "noise"
        cleaned["image_bytes"] = None
        if cleaned["combine"] == "upload" or self.server_image is not None or cleaned.get("image") or cleaned.get("image_data"):
            self._clean_upload(cleaned)
        elif "sources" in cleaned and not 2 <= len(cleaned["sources"]) <= 3:
            self.add_error("sources", "Pick 2 or 3 gallery images to combine (or upload a composite).")
        elif cleaned.get("alphas") and len(cleaned["alphas"]) != len(cleaned["sources"]):
            self.add_error("alphas", "Give one blend weight per picked image.")
        elif any(a < 0 for a in cleaned.get("alphas") or ()) or (cleaned.get("alphas") and sum(cleaned["alphas"]) <= 0):
            self.add_error("alphas", "Blend weights are non-negative and not all zero.")
        return cleaned

    def _clean_upload(self, cleaned):
        cleaned["combine"] = "upload"
        upload, data_url = cleaned.get("image"), cleaned.get("image_data")
        if self.server_image is not None:
            cleaned["image_bytes"] = self.server_image
        elif upload:
            if upload.size == 0:
                self.add_error("image", "The file is empty.")
            elif upload.size > self._limit():
                self.add_error("image", forms.ValidationError(upload_limit_message(upload.size), code="too_large"))
            else:
                cleaned["image_bytes"] = upload.read()
        elif data_url:
            try:
                cleaned["image_bytes"] = decode_data_url(data_url)
            except forms.ValidationError as error:
                self.add_error("image", error)
        else:
            self.add_error("image", "Choose or drop a composite image to search with.")

    @staticmethod
    def _limit() -> int:
        from django.conf import settings

        return settings.PORTAL_MAX_UPLOAD_BYTES

    @property
    def too_large(self) -> bool:
        return any(e.code == "too_large" for e in self.errors.as_data().get("image", []))
