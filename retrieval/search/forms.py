"""The image search's input: the shared image form plus the descriptor to search with."""

from django import forms

from retrieval.core.forms import ImageSearchForm
from retrieval.photo.services import DESCRIPTOR_MODES, default_descriptor_mode


class ImageQueryForm(ImageSearchForm):
    """An image, k, metric, gallery, and ``descriptor``: "standard" or "photo" (blank: the
    gallery's default, ``photo.services.default_descriptor_mode``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["descriptor"] = forms.ChoiceField(
            label="Descriptor", choices=list(DESCRIPTOR_MODES.items()), required=False,
            error_messages={"invalid_choice": f"%(value)s is not a descriptor; choose one of: "
                                              f"{', '.join(DESCRIPTOR_MODES)}."})

    def clean(self):
        cleaned = super().clean()
        gallery = cleaned.get("gallery")
        if gallery is not None and not cleaned.get("descriptor"):
            cleaned["descriptor"] = default_descriptor_mode(gallery.slug)
        return cleaned
