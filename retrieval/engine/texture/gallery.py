"""The texture gallery's files: the retrieval database (training-region crops) as PNGs, one
folder per class, ready for the folder importer (``manage.py import_textures``)."""

import io
from pathlib import Path

from PIL import Image

from ..fileio import atomic_write_bytes
from .evaluate import split


def class_folder(name: str) -> str:
    return name.replace("/", "__")


def write_database_crops(textures, folder: Path | str) -> int:
    """Write every database crop as ``<folder>/<class>/<n>.png``; returns how many."""
    folder = Path(folder)
    database, _ = split(textures)
    counts: dict[int, int] = {}
    for image, label in zip(database.images, database.labels, strict=True):
        n = counts[int(label)] = counts.get(int(label), 0) + 1
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        atomic_write_bytes(folder / class_folder(textures[int(label)].name) / f"{n:02d}.png", buffer.getvalue())
    return len(database)
