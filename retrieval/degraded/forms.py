"""Input of a degraded query, for the page, the websocket and the API alike.

The image comes as for a search (upload, data URL) or as a gallery image's id
(``example``); the degradation's parameters come as an object (``params``: a dict, or JSON
text) or, from the page's sliders, as flat ``<degradation>-<parameter>`` fields. The ranges
are the engine's (``engine.degrade``), so every message names the valid range.
"""

import json

from django import forms

from retrieval.core.forms import ImageSearchForm
from retrieval.degraded.services import DESCRIPTOR_MODES
from retrieval.engine.degraded.degradations import DEGRADATIONS, InvalidDegradation, validate_params
from retrieval.models import GalleryImage

DEFAULT_DEGRADATION = "gaussian"
DEFAULT_K = 5  # per row: three rows of ten would not fit a lecture screen
MAX_SEED = 2**31 - 1


def slider_name(degradation: str, param: str) -> str:
    return f"{degradation}-{param}"


class DegradedQueryForm(ImageSearchForm):
    missing_image = "Choose, drop or pick an image to degrade."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["k"].initial = DEFAULT_K
        known = ", ".join(DEGRADATIONS)
        self.fields["degradation"] = forms.ChoiceField(
            label="Degradation", choices=[(d.name, d.title) for d in DEGRADATIONS.values()], required=False,
            initial=DEFAULT_DEGRADATION,
            error_messages={"invalid_choice": f"%(value)s is not a degradation; choose one of: {known}."})
        self.fields["seed"] = forms.IntegerField(
            label="Seed", initial=0, required=False, min_value=0, max_value=MAX_SEED,
            help_text="the same seed draws the same noise")
        self.fields["descriptor"] = forms.ChoiceField(
            label="Descriptor", choices=list(DESCRIPTOR_MODES.items()), initial="standard", required=False,
            error_messages={"invalid_choice": f"%(value)s is not a descriptor; choose one of: {', '.join(DESCRIPTOR_MODES)}."})
        self.fields["example"] = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
        # Read raw in clean(): an object from JSON and the websocket, text from a form.
        self.fields["params"] = forms.Field(label="Parameters", required=False, widget=forms.HiddenInput)

    def clean_k(self):
        return self.cleaned_data["k"] or DEFAULT_K

    def clean_degradation(self):
        return self.cleaned_data["degradation"] or DEFAULT_DEGRADATION

    def clean_seed(self):
        seed = self.cleaned_data["seed"]
        return 0 if seed is None else seed

    def clean_descriptor(self):
        return self.cleaned_data["descriptor"] or "standard"

    def clean_example(self):
        pk = self.cleaned_data["example"]
        if pk is None:
            return None
        image = GalleryImage.objects.select_related("gallery").filter(pk=pk).first()
        if image is None:
            raise forms.ValidationError(f"There is no gallery image with id {pk}.")
        return image

    def clean(self):
        example = self.cleaned_data.get("example")
        if self.server_image is None and example is not None and not self._has_own_image():
            with example.file.open("rb") as f:
                self.server_image = f.read()
        cleaned = super().clean()
        degradation = cleaned.get("degradation")
        if degradation:
            try:
                cleaned["params"] = validate_params(degradation, self._raw_params(degradation))
            except (InvalidDegradation, ValueError) as error:
                for message in getattr(error, "messages", [str(error)]):
                    self.add_error("params", message)
        return cleaned

    def _has_own_image(self) -> bool:
        return bool(self.files.get("image")) or bool(self.data.get("image_data"))

    def _raw_params(self, degradation: str) -> dict:
        raw = self.data.get("params")
        if isinstance(raw, str) and raw.strip():
            try:
                raw = json.loads(raw)
            except ValueError:
                raise ValueError('params must be a JSON object, e.g. {"sigma": 0.2}.') from None
        if raw not in (None, ""):
            if not isinstance(raw, dict):
                raise ValueError('params must be an object of parameter values, e.g. {"sigma": 0.2}.')
            return raw
        prefix = f"{degradation}-"
        return {key[len(prefix):]: value for key, value in self.data.items() if key.startswith(prefix)}
