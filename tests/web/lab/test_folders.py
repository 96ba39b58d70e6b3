"""Galleries from folders: classes, SVG, transparency, duplicates, broken files, re-runs."""

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from retrieval.galleries.folders import SVG_SIDE, audit_path, gallery_import_folder, read_audit
from retrieval.models import Gallery

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
       b'<rect width="40" height="20" fill="#00ff00"/></svg>')
ILLUSTRATOR_SVG = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg">]>'
                   b'<svg xmlns="&ns_svg;" width="10" height="10"><rect width="10" height="10" fill="blue"/></svg>')


def _png(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "animals").mkdir()
    (tmp_path / "animals" / "deep").mkdir()
    (tmp_path / "food").mkdir()
    transparent = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    transparent.putpixel((0, 0), (255, 0, 0, 255))
    (tmp_path / "animals" / "ghost.png").write_bytes(_png(transparent))
    (tmp_path / "animals" / "deep" / "red.jpg").write_bytes(_png(Image.new("RGB", (30, 20), (200, 0, 0)), "JPEG"))
    (tmp_path / "food" / "copy.png").write_bytes(_png(transparent))  # same bytes as animals/ghost.png
    (tmp_path / "food" / "leaf.svg").write_bytes(SVG)
    (tmp_path / "food" / "ai.svg").write_bytes(ILLUSTRATOR_SVG)
    (tmp_path / "food" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    frames = [Image.new("P", (6, 6), i) for i in (1, 2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    (tmp_path / "food" / "anim.gif").write_bytes(buffer.getvalue())
    (tmp_path / "top.webp").write_bytes(_png(Image.new("RGB", (9, 9), (0, 0, 255)), "WEBP"))
    (tmp_path / "food" / "notes.txt").write_text("not an image")
    return tmp_path


def _by_path(result):
    return {e.path: e for e in result.entries}


def test_folder_import_classes_svg_alpha_duplicates_and_a_broken_file(db, folder):
    result = gallery_import_folder(folder=folder, slug="tiny-folder", name="Tiny")
    entries = _by_path(result)
    gallery = Gallery.objects.get(slug="tiny-folder")
    assert result.count("imported") == 6 and result.ignored == 1
    assert entries["food/copy.png"].status == "duplicate" and "animals/ghost.png" in entries["food/copy.png"].reason
    assert entries["food/broken.png"].status == "refused" and "not an image" in entries["food/broken.png"].reason
    assert gallery.class_names == ["animals", "food"]
    assert gallery.default_descriptor.startswith("lab:")
    images = {e.path: gallery.images.get(pk=e.image_id) for e in result.entries if e.status == "imported"}
    assert images["animals/deep/red.jpg"].label == 0 and images["food/leaf.svg"].label == 1
    assert images["top.webp"].label is None  # files at the top belong to no class
    svg = Image.open(images["food/leaf.svg"].file.path)
    assert svg.size == (SVG_SIDE, SVG_SIDE // 2) and svg.getpixel((5, 5)) == (0, 255, 0)
    assert Image.open(images["food/ai.svg"].file.path).getpixel((5, 5)) == (0, 0, 255)
    ghost = np.asarray(Image.open(images["animals/ghost.png"].file.path))
    assert ghost.shape == (8, 8, 3) and tuple(ghost[0, 0]) == (255, 0, 0) and tuple(ghost[4, 4]) == (255, 255, 255)
    assert Image.open(images["food/anim.gif"].file.path).mode == "RGB"
    audit = read_audit("tiny-folder")
    assert audit["counts"] == {"imported": 6, "duplicate": 1, "refused": 1}
    assert {f["path"] for f in audit["files"]} == set(entries)


def test_a_rerun_adds_only_what_is_new(db, folder):
    gallery_import_folder(folder=folder, slug="tiny-folder")
    (folder / "food" / "new.png").write_bytes(_png(Image.new("RGB", (5, 5), (1, 2, 3))))
    (folder / "plants").mkdir()
    (folder / "plants" / "tree.png").write_bytes(_png(Image.new("RGB", (5, 5), (0, 90, 0))))
    again = gallery_import_folder(folder=folder, slug="tiny-folder")
    assert again.count("imported") == 2
    assert {e.path for e in again.entries if e.status == "imported"} == {"food/new.png", "plants/tree.png"}
    gallery = Gallery.objects.get(slug="tiny-folder")
    assert gallery.images.count() == 8 and gallery.class_names == ["animals", "food", "plants"]
    audit = read_audit("tiny-folder")  # the history: first imports keep their record
    assert audit["counts"] == {"imported": 8, "duplicate": 1, "refused": 1}
    assert audit["last_run"] == {"imported": 2, "duplicate": 7, "refused": 1}
    assert len(set(gallery.images.values_list("source_index", flat=True))) == 8


def test_labels_none_leaves_every_image_unlabelled(db, folder):
    result = gallery_import_folder(folder=folder, slug="unlabelled", labels="none")
    gallery = result.gallery
    assert gallery.class_names == [] and not gallery.images.exclude(label=None).exists()


def test_the_command_prints_the_audit_and_keeps_it_beside_the_gallery(db, folder):
    out = io.StringIO()
    call_command("import_gallery", folder=folder, slug="cmd-folder", name="By command", stdout=out)
    text = out.getvalue()
    assert "6 imported, 1 skipped as duplicates, 1 refused" in text
    assert "food/broken.png" in text and "food/copy.png" in text
    assert json.loads(audit_path("cmd-folder").read_text())["gallery"] == "cmd-folder"


def test_the_command_refuses_a_missing_folder(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a folder"):
        call_command("import_gallery", folder=tmp_path / "nope", slug="x", stdout=io.StringIO())
