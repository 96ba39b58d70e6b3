"""Each gallery image keeps its histogram's pixel counts, so that explaining a hit opens no
file. Existing rows are filled from their files here (about 15 s for 60,000 images); a row
whose file cannot be read stays empty and is explained from its file as before."""

import sys

import numpy as np
from django.db import migrations, models
from PIL import Image

BINS = 32  # engine.explain.DEFAULT_BINS when this migration was written
BATCH = 2000


def counts_of(image: Image.Image) -> bytes:
    # engine.explain.pixel_counts, frozen here: a migration must not change with the code.
    pixels = np.asarray(image if image.mode in ("L", "RGB") else image.convert("RGB"))
    planes = pixels[..., None] if pixels.ndim == 2 else pixels
    counts = np.stack([np.bincount(planes[..., c].ravel().astype(np.int64) * BINS // 256, minlength=BINS)
                       for c in range(planes.shape[-1])])
    return counts.astype("<u4").tobytes()


def fill(apps, schema_editor):
    from django.core.files.storage import default_storage

    GalleryImage = apps.get_model("retrieval", "GalleryImage")
    rows = GalleryImage.objects.filter(histogram__isnull=True).values_list("id", "file")
    total, done, batch = rows.count(), 0, []
    # One UPDATE per row through executemany: bulk_update's CASE expressions grow with the batch
    # and made this take minutes on SQLite.
    sql = f"UPDATE {GalleryImage._meta.db_table} SET histogram = %s WHERE id = %s"
    with schema_editor.connection.cursor() as cursor:
        for pk, name in rows.iterator(chunk_size=BATCH):
            try:
                with Image.open(default_storage.path(name)) as image:
                    image.load()
                    batch.append((counts_of(image), pk))
            except (OSError, ValueError, NotImplementedError):
                continue
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                done += len(batch)
                batch = []
                print(f"\r  gallery histograms: {done}/{total}", end="", file=sys.stderr)
        cursor.executemany(sql, batch)
    if total:
        print(f"\r  gallery histograms: {total}/{total}", file=sys.stderr)


class Migration(migrations.Migration):

    dependencies = [
        ("retrieval", "0004_gallery_default_descriptor"),
    ]

    operations = [
        migrations.AddField(
            model_name="galleryimage",
            name="histogram",
            field=models.BinaryField(
                editable=False, null=True,
                help_text="Pixel counts per bin, [channels, bins] uint32 little-endian (engine.explain.pixel_counts): "
                          "a hit's histogram explanation without opening its file. Empty for rows made before it existed."),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
