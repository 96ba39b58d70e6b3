"""Validation of a sketch query (pages, websocket and API alike)."""

from django import forms

from retrieval.core.forms import ImageSearchForm
from retrieval.engine.sketch.search import SKETCH_MODES
from retrieval.sketch.services import default_sketch_mode


class SketchSearchForm(ImageSearchForm):
    """A drawing (a PNG upload, or the canvas as a data URL) and the way to read it."""

    missing_image = "The canvas is blank: draw something first."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(mode.name, mode.title) for mode in SKETCH_MODES.values()]
        self.fields["mode"] = forms.ChoiceField(label="Mode", choices=choices, initial=default_sketch_mode(),
                                                required=False, error_messages={"invalid_choice": (
                                                    f"%(value)s is not a sketch mode; choose one of "
                                                    f"{', '.join(SKETCH_MODES)}.")})

    def clean_mode(self):
        return self.cleaned_data["mode"] or self.fields["mode"].initial
