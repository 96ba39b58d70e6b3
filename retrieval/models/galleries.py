"""Galleries, their images and the indexes built over them."""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse


class Gallery(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    class_names = models.JSONField(default=list, help_text="Label names, indexed by label number.")
    default_descriptor = models.CharField(
        max_length=80, blank=True, default="",
        help_text="What describes this gallery by default: empty for the serving checkpoint (trained "
                  "descriptor), or 'lab:<backbone>:<descriptor>' for an ImageNet backbone (colour galleries).")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "galleries"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("retrieval:gallery", args=[self.slug])

    @classmethod
    def default(cls, slug: str | None = None) -> "Gallery | None":
        """The gallery ``slug`` (the default gallery when None), or None. A raw query: every query
        form asks, and the ORM's filter-and-order compiling cost more than the query itself
        (by py-spy, about a twelfth of a small search's time in the server)."""
        rows = cls.objects.raw(f"SELECT * FROM {cls._meta.db_table} WHERE slug = %s LIMIT 1",  # noqa: S608 -- no input in it
                               [slug or settings.RETRIEVAL["DEFAULT_GALLERY"]])
        return next(iter(rows), None)

    def label_name(self, label: int | None) -> str:
        if label is None or not 0 <= label < len(self.class_names):
            return "unlabelled"
        return self.class_names[label]


class GalleryImage(models.Model):
    class Split(models.TextChoices):
        TRAIN = "train", "Gallery (train)"
        TEST = "test", "Queries (test)"

    gallery = models.ForeignKey(Gallery, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(upload_to="galleries/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    label = models.IntegerField(null=True, blank=True, db_index=True)
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.TRAIN, db_index=True)
    source_index = models.PositiveIntegerField(help_text="Position in the source dataset file.")
    histogram = models.BinaryField(
        null=True, editable=False,
        help_text="Pixel counts per bin, [channels, bins] uint32 little-endian (engine.explain.pixel_counts): "
                  "a hit's histogram explanation without opening its file. Empty for rows made before it existed.")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["gallery", "split", "source_index"], name="unique_source_item")]
        indexes = [models.Index(fields=["gallery", "split", "label"])]

    def __str__(self) -> str:
        return f"{self.gallery.slug}/{self.split}/{self.source_index}"

    def get_absolute_url(self) -> str:
        return reverse("retrieval:image", args=[self.gallery.slug, self.pk])

    @property
    def label_name(self) -> str:
        return self.gallery.label_name(self.label)


class IndexVersion(models.Model):
    """One built index file: which gallery split, which checkpoint, how big, how fast."""

    gallery = models.ForeignKey(Gallery, on_delete=models.CASCADE, related_name="index_versions")
    checkpoint_id = models.CharField(max_length=32)
    checkpoint_name = models.CharField(max_length=200)
    path = models.CharField(max_length=500)  # relative to the index folder (INDEX_DIR): see resolved_path
    count = models.PositiveIntegerField()
    dim = models.PositiveIntegerField()
    seconds = models.FloatField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        get_latest_by = "created"

    def __str__(self) -> str:
        return f"{self.gallery.slug} @ {self.checkpoint_id} ({self.count} items)"

    @property
    def resolved_path(self) -> Path:
        """The index file: ``path`` read against today's index folder, so a copied or moved
        checkout finds its own files (an absolute path from an older row is used as it is)."""
        return index_folder() / self.path

    @staticmethod
    def stored_path(path: Path | str) -> str:
        """What ``path`` is stored as: relative to the index folder when inside it."""
        path = Path(path)
        try:
            return str(path.resolve().relative_to(index_folder().resolve()))
        except ValueError:
            return str(path)


def index_folder() -> Path:
    return Path(settings.RETRIEVAL["INDEX_DIR"])
