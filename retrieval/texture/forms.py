"""The texture query: an image (uploaded, or a gallery texture named by ``example``), the box
of it to search by (blank: a centred square, ``engine.texture.serving.default_box``), the
code length, k. The gallery is always `textures`."""

from django import forms

from retrieval.core.forms import DEFAULT_K, ImageSearchForm
from retrieval.core.links import example_bytes
from retrieval.engine.errors import NotReady
from retrieval.engine.texture.serving import InvalidBox, parse_box
from retrieval.models import GalleryImage

from .services import SLUG, texture_gallery

BITS = (32, 64, 128, 256)
BITS_CHOICES = [(str(b), f"{b} bits") for b in BITS]
DEFAULT_BITS = 64


class TextureQueryForm(ImageSearchForm):
    missing_image = "Upload a texture, or pick one of the gallery's textures."
    bits = forms.TypedChoiceField(label="Code length", choices=BITS_CHOICES, coerce=int, required=False,
                                  initial=str(DEFAULT_BITS), error_messages={
                                      "invalid_choice": "%(value)s is not a code length: choose 32, 64, 128 or 256."})
    box = forms.CharField(label="Box", required=False, max_length=60,
                          help_text="left, top, width, height in the image's pixels (blank: a centred square)")
    example = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"] = forms.ChoiceField(choices=[("hamming", "Hamming")], required=False, initial="hamming")
        self.fields["gallery"].initial = SLUG

    def clean_metric(self):
        return "hamming"

    def clean_bits(self):
        return self.cleaned_data.get("bits") or DEFAULT_BITS

    def clean_k(self):
        return self.cleaned_data["k"] or DEFAULT_K

    def clean_gallery(self):
        # Only the texture gallery holds codes: a link from another gallery's image searches it too.
        try:
            return texture_gallery()
        except NotReady as error:
            raise forms.ValidationError(str(error)) from None

    def clean_box(self):
        text = (self.cleaned_data.get("box") or "").strip()
        if not text:
            return None
        try:
            return parse_box(text)
        except InvalidBox as error:
            raise forms.ValidationError(str(error)) from None

    def clean_example(self):
        value = (self.cleaned_data.get("example") or "").strip()
        if value and not value.isdigit():
            raise forms.ValidationError("A gallery texture is named by its id.")
        return value

    def clean(self):
        # A named gallery texture is the query when nothing else is sent (the API, a socket message).
        gallery, value = self.cleaned_data.get("gallery"), self.cleaned_data.get("example")
        example = GalleryImage.objects.filter(pk=int(value), gallery=gallery).first() if value and gallery else None
        sent = self.server_image is not None or self.files.get("image") or self.data.get("image_data")
        if value and example is None and not sent:
            self.add_error("example", f"There is no texture with id {value} in the gallery.")
        elif example is not None and not sent:
            self.server_image = example_bytes(example)
        cleaned = super().clean()
        if "example" in self.errors:  # the one problem: "no image" would only repeat it
            self.errors.pop("image", None)
        cleaned["example"] = example
        return cleaned
