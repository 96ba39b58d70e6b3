"""Validation of a training run's options, built from the family's configuration dataclass."""

import dataclasses

from django import forms

from retrieval.engine.errors import InvalidConfig
from retrieval.engine.options import ConfigOption, config_options
from retrieval.engine.training.registry import get_trainer


class TrainingStartForm(forms.Form):
    """A model family and its configuration. The fields are generated from the family's
    config dataclass; the values are checked by the engine's own coercion and validation,
    so the form, the API and ``manage.py train`` reject the same things with the same words."""

    RESERVED = ("family", "public")

    def __init__(self, data=None, *, family: str):
        super().__init__(data)
        self.spec = get_trainer(family)
        self.fields["family"] = forms.CharField(widget=forms.HiddenInput, initial=family)
        for opt in config_options(self.spec.config_cls):
            assert opt.name not in self.RESERVED, f"{family}: config field {opt.name!r} clashes with the form"
            self.fields[opt.name] = _option_field(opt)
        self.fields["public"] = forms.BooleanField(label="Public", required=False, initial=True,
                                                   help_text="visitors who are not staff may watch it")

    def clean(self):
        cleaned = super().clean()
        values = {opt.name: cleaned.get(opt.name) for opt in config_options(self.spec.config_cls)}
        try:
            cleaned["config"] = self.spec.build_config(values)
        except InvalidConfig as error:
            for name, messages in error.fields.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
            for message in error.messages:
                if not any(message in messages for messages in error.fields.values()):
                    self.add_error(None, message)
        return cleaned

    def config_values(self) -> dict:
        """The validated configuration as the plain values the services take."""
        return dataclasses.asdict(self.cleaned_data["config"])

    def basic_fields(self):
        return [self[opt.name] for opt in config_options(self.spec.config_cls) if not opt.advanced]

    def advanced_fields(self):
        return [self[opt.name] for opt in config_options(self.spec.config_cls) if opt.advanced]


def _option_field(opt: ConfigOption) -> forms.Field:
    """Browser-friendly inputs; every value still arrives as text (or a tick) for the engine to check."""
    common = {"label": (opt.title or opt.label).capitalize(), "help_text": opt.help, "required": False}
    if opt.kind is bool:
        return forms.BooleanField(initial=opt.default, **common)
    if opt.choices:
        return forms.ChoiceField(choices=[(c, c) for c in opt.choices], initial=opt.default, **common)
    attrs = {"step": "any"} if opt.kind is float else {"step": "1"} if opt.kind is int else {}
    widget = forms.NumberInput(attrs=attrs) if opt.kind in (int, float) else forms.TextInput()
    return forms.CharField(initial="" if opt.default is None else opt.default, widget=widget, strip=True, **common)
