"""Galleries from folders: every image under a folder becomes a gallery image, with an audit.

Rasters (PNG, JPEG, WebP, BMP, TIFF, GIF's first frame) are decoded by the portal's one
safe decoder (``engine.images``: transparency composited on white, EXIF rotation, size
limits); SVG drawings are rendered with cairosvg at a fixed size, then decoded the same way.
Each image is stored as an RGB PNG no larger than ``MAX_SIDE``. With ``labels="subfolders"``
the first-level subfolder is the class (files at the top are unlabelled).

Re-runs are idempotent: a file whose content (SHA-256 of its bytes) is already in the
gallery is skipped, so only what is new is added. The audit (every file: imported, skipped
as a duplicate, refused with the reason) is kept beside the gallery's media as
``audit.json``; stored files are named by their content hash, so the gallery itself
remembers what it holds.
"""

import hashlib
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from PIL import Image

from retrieval.core.results import stored_counts
from retrieval.engine.errors import InvalidImage
from retrieval.engine.fileio import atomic_write_bytes, atomic_write_json
from retrieval.engine.images import decode_image, encode_png
from retrieval.models import Gallery, GalleryImage

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
SVG_SUFFIXES = {".svg"}
SVG_SIDE = 256  # SVG drawings are rendered with their longer side this long
MAX_SIDE = 512  # stored images are at most this large (descriptors see 224-260 px)
LABEL_MODES = ("subfolders", "none")
COLOUR_DEFAULT_DESCRIPTOR = "lab:efficientnet_lite0:gap"  # the plain ImageNet code (retrieval.lab)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AuditEntry:
    path: str  # relative to the folder
    status: str  # "imported", "duplicate" or "refused"
    reason: str = ""
    sha256: str = ""
    image_id: int | None = None


@dataclass
class FolderImport:
    gallery: Gallery
    entries: list[AuditEntry] = field(default_factory=list)
    ignored: int = 0  # files that are not images by their suffix (sounds, texts ...)

    def count(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)


def image_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` with an image suffix, in a stable (sorted) order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in RASTER_SUFFIXES | SVG_SUFFIXES)


def render_file(data: bytes, suffix: str) -> Image.Image:
    """The file as an 8-bit RGB image (InvalidImage with the reason when it cannot be read)."""
    if suffix.lower() in SVG_SUFFIXES:
        data = _render_svg(data)
    image = decode_image(data).image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def _render_svg(data: bytes) -> bytes:
    import cairosvg

    try:
        data = _expand_internal_entities(data)
        png = cairosvg.svg2png(bytestring=data, output_width=SVG_SIDE)
        if Image.open(io.BytesIO(png)).height > SVG_SIDE:
            png = cairosvg.svg2png(bytestring=data, output_height=SVG_SIDE)
    except Exception as error:  # noqa: BLE001 (cairosvg raises parser and renderer errors of many types)
        raise InvalidImage(f"The SVG drawing cannot be rendered ({type(error).__name__}: {error}).") from None
    return png


def _expand_internal_entities(data: bytes) -> bytes:
    """Illustrator's SVGs declare internal entities (``<!ENTITY ns_svg "...">``), which cairosvg's
    safe parser refuses: expand them, still refusing external ones (no file or URL is read)."""
    if b"<!ENTITY" not in data[:4096]:
        return data
    from xml.etree import ElementTree

    from defusedxml.ElementTree import fromstring

    return ElementTree.tostring(fromstring(data, forbid_entities=False, forbid_external=True))


def audit_path(slug: str) -> Path:
    return Path(default_storage.path(f"galleries/{slug}/audit.json"))


def gallery_import_folder(*, folder: Path, slug: str, name: str | None = None, labels: str = "subfolders",
                          description: str = "", progress: Progress | None = None) -> FolderImport:
    """Import every image under ``folder`` into the gallery ``slug`` (created when missing)."""
    if labels not in LABEL_MODES:
        raise ValueError(f"labels must be one of {', '.join(LABEL_MODES)}")
    folder = Path(folder)
    gallery, _ = Gallery.objects.get_or_create(slug=slug, defaults={
        "name": name or slug, "description": description or f"Images imported from {folder}.",
        "default_descriptor": COLOUR_DEFAULT_DESCRIPTOR,
    })
    known = _known_hashes(gallery)
    result = FolderImport(gallery=gallery)
    files = image_files(folder)
    result.ignored = sum(1 for p in folder.rglob("*") if p.is_file()) - len(files)
    class_names = list(gallery.class_names)
    rows, next_index = [], (gallery.images.aggregate(m=Max("source_index"))["m"] or -1) + 1
    for done, path in enumerate(files, 1):
        entry = _import_one(gallery, folder, path, labels, class_names, known, next_index + len(rows))
        if isinstance(entry, GalleryImage):
            rows.append(entry)
        else:
            result.entries.append(entry)
        if progress:
            progress(done, len(files))
    with transaction.atomic():
        gallery.class_names = class_names
        gallery.save(update_fields=["class_names"])
        for row in GalleryImage.objects.bulk_create(rows, batch_size=500):
            sha = Path(row.file.name).stem
            result.entries.append(AuditEntry(path=row._audit_path, status="imported", sha256=sha, image_id=row.pk))
    result.entries.sort(key=lambda e: e.path)
    _write_audit(gallery, folder, result)
    return result


def _import_one(gallery: Gallery, folder: Path, path: Path, labels: str, class_names: list[str], known: dict,
                source_index: int) -> GalleryImage | AuditEntry:
    relative = path.relative_to(folder).as_posix()
    try:
        data = path.read_bytes()
    except OSError as error:
        return AuditEntry(path=relative, status="refused", reason=f"The file cannot be read ({error.strerror}).")
    sha = hashlib.sha256(data).hexdigest()
    if sha in known:
        reason = known[sha] if known[sha].startswith("already") else f"same content as {known[sha]}"
        return AuditEntry(path=relative, status="duplicate", reason=reason, sha256=sha)
    try:
        image = render_file(data, path.suffix)
    except InvalidImage as error:
        return AuditEntry(path=relative, status="refused", reason=str(error), sha256=sha)
    label = None
    parts = path.relative_to(folder).parts
    if labels == "subfolders" and len(parts) > 1:
        if parts[0] not in class_names:
            class_names.append(parts[0])
        label = class_names.index(parts[0])
    stored = f"galleries/{gallery.slug}/{sha}.png"
    atomic_write_bytes(Path(default_storage.path(stored)), encode_png(image))
    known[sha] = relative  # a second copy in the same run is a duplicate too
    row = GalleryImage(gallery=gallery, file=stored, width=image.width, height=image.height, label=label,
                       split=GalleryImage.Split.TRAIN, source_index=source_index, histogram=stored_counts(image))
    row._audit_path = relative
    return row


def _known_hashes(gallery: Gallery) -> dict[str, str]:
    """Content hash -> which image holds it, for everything in the gallery (files are named by hash)."""
    return {Path(name).stem: f"already in the gallery as image #{pk}" for pk, name in gallery.images.values_list("pk", "file")}


def _write_audit(gallery: Gallery, folder: Path, result: FolderImport) -> None:
    """The audit of every file seen: a file found again on a re-run keeps what its first
    import recorded (imported, with its image), so the audit stays the gallery's history."""
    earlier = {f["path"]: f for f in (read_audit(gallery.slug) or {}).get("files", [])}
    files = [earlier.get(e.path, asdict(e)) if e.reason.startswith("already") else asdict(e) for e in result.entries]
    atomic_write_json(audit_path(gallery.slug), {
        "gallery": gallery.slug, "folder": str(folder), "ignored_non_images": result.ignored,
        "counts": {s: sum(f["status"] == s for f in files) for s in ("imported", "duplicate", "refused")},
        "last_run": {s: result.count(s) for s in ("imported", "duplicate", "refused")},
        "files": files,
    })


def read_audit(slug: str) -> dict | None:
    import json

    try:
        return json.loads(audit_path(slug).read_text())
    except (FileNotFoundError, ValueError):
        return None
