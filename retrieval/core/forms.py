"""Input validation for pages and websockets; the API's serializers reuse these rules."""

import base64
import binascii
import re

from django import forms
from django.conf import settings

from retrieval.engine.config import METRICS
from retrieval.models import Gallery

METRIC_CHOICES = [("cosine", "Cosine"), ("l2", "L2 (Euclidean)")]
DEFAULT_METRIC = "cosine"  # the paper's metric, and the better one measured (P@5 0.9205 vs 0.9192 for L2)
assert {m for m, _ in METRIC_CHOICES} == set(METRICS)
DEFAULT_K = 10
_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+)?(;[\w=.-]+)*;base64,(?P<data>.*)$", re.S)


def max_k() -> int:
    return settings.RETRIEVAL["MAX_K"]


def upload_limit_message(size: int) -> str:
    return f"The file is {size / 1e6:.1f} MB; the limit is {settings.PORTAL_MAX_UPLOAD_BYTES / 1e6:.0f} MB."


def decode_data_url(value: str) -> bytes:
    """Bytes of a base64 data URL (or of bare base64); ValidationError when malformed or too big."""
    match = _DATA_URL.match(value.strip())
    payload = match.group("data") if match else value.strip()
    if len(payload) * 3 // 4 > settings.PORTAL_MAX_UPLOAD_BYTES:
        raise forms.ValidationError(upload_limit_message(len(payload) * 3 // 4), code="too_large")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise forms.ValidationError("The image data is not valid base64 (expected a data: URL).", code="invalid") from None


def form_messages(form) -> list[str]:
    """Every error of a form, as the sentences pages and websockets show: a field's errors
    start with the field's label ("Results (k): Ensure ..."), the form's own stand alone."""
    messages = []
    for name, errors in form.errors.items():
        label = form[name].label if name in form.fields else None
        messages += [f"{label}: {message}" if label else message for message in errors]
    return messages


def current_choice(form, name: str, valid, default: str) -> str:
    """The value a page shows as chosen for ``name``: the submitted one when valid, else the default."""
    value = form[name].value() if form.is_bound else None
    return value if value in valid else default


class SearchParamsForm(forms.Form):
    metric = forms.ChoiceField(label="Metric", choices=METRIC_CHOICES, initial=DEFAULT_METRIC, required=False)
    gallery = forms.ModelChoiceField(queryset=Gallery.objects.all(), to_field_name="slug", required=False,
                                     empty_label=None,
                                     error_messages={"invalid_choice": "There is no gallery called %(value)s."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here because the limit is a setting.
        self.fields["k"] = forms.IntegerField(label="Results (k)", initial=DEFAULT_K, required=False,
                                              min_value=1, max_value=max_k())
        self.order_fields(["image", "image_data", "k", "metric", "gallery"])
        if not self.is_bound or not self.data.get("gallery"):
            self.fields["gallery"].initial = settings.RETRIEVAL["DEFAULT_GALLERY"]

    def clean_k(self):
        return self.cleaned_data["k"] or DEFAULT_K

    def clean_metric(self):
        return self.cleaned_data["metric"] or DEFAULT_METRIC

    def clean_gallery(self):
        gallery = self.cleaned_data["gallery"]
        if gallery is None:
            gallery = Gallery.default()
        if gallery is None:
            raise forms.ValidationError("No gallery is set up yet: run the set-up command first.")
        return gallery


class ImageSearchForm(SearchParamsForm):
    """An uploaded file, or a data URL (pasted or drawn images)."""

    missing_image = "Choose or drop an image to search with."
    image = forms.FileField(label="Image", required=False)
    image_data = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, image_bytes: bytes | None = None, **kwargs):
        """``image_bytes``: a query the server already holds (a gallery example)."""
        super().__init__(*args, **kwargs)
        self.server_image = image_bytes

    def clean(self):
        cleaned = super().clean()
        upload, data_url = cleaned.get("image"), cleaned.get("image_data")
        if self.server_image is not None:
            cleaned["image_bytes"] = self.server_image
        elif upload:
            if upload.size == 0:
                self.add_error("image", "The file is empty.")
            elif upload.size > settings.PORTAL_MAX_UPLOAD_BYTES:
                self.add_error("image", forms.ValidationError(upload_limit_message(upload.size), code="too_large"))
            else:
                cleaned["image_bytes"] = upload.read()
        elif data_url:
            try:
                cleaned["image_bytes"] = decode_data_url(data_url)
            except forms.ValidationError as error:
                self.add_error("image", error)
        elif "image" not in self.errors:
            self.add_error("image", self.missing_image)
        return cleaned

    @property
    def too_large(self) -> bool:
        return any(e.code == "too_large" for e in self.errors.as_data().get("image", []))
