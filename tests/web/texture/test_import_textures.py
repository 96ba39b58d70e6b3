"""`manage.py import_textures` makes a labelled gallery of the texture database crops."""

from io import StringIO

import pytest
from django.core.management import call_command

from retrieval.engine.texture.patterns import GIMP_PATTERNS
from retrieval.models import Gallery

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not GIMP_PATTERNS.is_dir(), reason="no gimp-data patterns")]


def test_import_textures_creates_one_class_per_texture(tmp_path):
    out = StringIO()
    call_command("import_textures", "--textures", "3", "--slug", "textures-test", "--folder", str(tmp_path), stdout=out)
    gallery = Gallery.objects.get(slug="textures-test")
    assert len(gallery.class_names) == 3
    assert 0 < gallery.images.count() <= 3 * 16
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(gallery.class_names)
