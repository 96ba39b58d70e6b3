"""The tiny texture gallery and checkpoints (``tests.support.textures``) for the page tests."""

import pytest
from django.conf import settings

from retrieval.engine.texture.patterns import GIMP_PATTERNS
from tests.support.textures import import_texture_gallery, tiny_texture_checkpoints


@pytest.fixture(scope="session")
def texture_checkpoint():
    if not GIMP_PATTERNS.is_dir():
        pytest.skip("gimp-data patterns are not installed")
    return tiny_texture_checkpoints()


@pytest.fixture
def textures(db, texture_checkpoint):
    gallery = import_texture_gallery(settings.TEST_VAR / "texture-crops")
    yield gallery
    from retrieval.texture import services

    services.forget()


def first_of_each_class(gallery) -> list:
    from django.db.models import Min

    ids = gallery.images.values("label").annotate(first=Min("id")).values_list("first", flat=True)
    return list(gallery.images.filter(pk__in=list(ids)).order_by("label"))
