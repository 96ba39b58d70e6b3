"""Every query is a link: the image a link names (``example=<gallery image id>`` or
``q=<stored query id>``), and the link, CSV link and query image URL of a query that ran, as
``templates/retrieval/_query_state.html`` hands them to the page's script."""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import get_resolver, get_script_prefix, reverse

from retrieval.core import query_store
from retrieval.models import GalleryImage

LINK_KEYS = ("q", "example")  # either makes a GET of a query page run its query
EMPTY_STATE = {"link": "", "csv": "", "image": ""}


_ID = 918273645  # stands for the id in a reversed URL: digits no other part of a path holds


def reverse_id(name: str, *args, pk: int) -> str:
    """``reverse(name, args=[*args, pk])``, at the cost of a string replace: a result page
    reverses two URLs per hit, and ``reverse`` costs about 0.1 ms each. The URL for one
    ``args`` is reversed once per URL configuration and script prefix, with a stand-in id."""
    return _id_template(name, args, get_script_prefix(), id(get_resolver())).replace(str(_ID), str(int(pk)))


@lru_cache(maxsize=256)
def _id_template(name: str, args: tuple, prefix: str, resolver: int) -> str:
    return reverse(name, args=[*args, _ID])


def is_link(params) -> bool:
    return any(params.get(key) for key in LINK_KEYS)


def linked_example(value, gallery=None) -> GalleryImage | None:
    """The gallery image a link or a message names by id (in ``gallery`` when given), else None."""
    if not str(value or "").isdigit():
        return None
    images = GalleryImage.objects.select_related("gallery")
    return images.filter(pk=int(value), **({"gallery": gallery} if gallery else {})).first()


def example_bytes(example: GalleryImage) -> bytes:
    with example.file.open("rb") as f:
        return f.read()


@dataclass(frozen=True)
class LinkedImage:
    data: bytes | None  # the query image, None when the link names none that exists
    example: GalleryImage | None
    stored: str | None = None  # the stored query's id (q=)
    problem: str = ""  # why there is no image
    status: int = 200


def linked_image(params) -> LinkedImage:
    """The query image a page link names: the stored query ``q`` (with ``example`` kept as the
    query's labelled source, e.g. the image a sketch traced), else the gallery image ``example``."""
    example = linked_example(params.get("example"))
    query_id = params.get("q")
    if query_id:
        if not query_store.valid_id(query_id):
            return LinkedImage(None, example, problem="This query link is malformed: q must be 24 hex digits.",
                               status=400)
        data = query_store.query_read(query_id)
        if data is None:
            return LinkedImage(None, example, problem="This query link has expired (or was never stored): "
                                                      "search with the image again.", status=404)
        return LinkedImage(data, example, stored=query_id)
    if example is None:
        return LinkedImage(None, None, problem=f"There is no gallery image with id {params.get('example')}.",
                           status=404)
    return LinkedImage(example_bytes(example), example)


def own_image(form) -> bool:
    """Whether a query sent its own image (a file or a data URL) rather than naming an example."""
    return bool(form.files.get("image")) or bool(form.data.get("image_data"))


def query_state(kind, cleaned: dict, *, stored: str | None, example: GalleryImage | None) -> dict:
    """The link reproducing a query (relative), its CSV link and the query image's URL."""
    params = {"q": stored} if stored else {}
    if example is not None:
        params["example"] = example.pk
    params |= {"k": cleaned["k"], "metric": cleaned["metric"], "gallery": cleaned["gallery"].slug}
    fields = kind.link_fields
    params |= fields(cleaned) if callable(fields) else {name: cleaned[name] for name in fields}
    link = f"{reverse('retrieval:' + kind.page_name)}?{urlencode(params)}"
    return {"link": link, "csv": f"{link}&format=csv", "image": _image_url(stored, example)}


def _image_url(stored: str | None, example: GalleryImage | None) -> str:
    if stored:
        return reverse("retrieval:query", args=[stored])
    return example.file.url if example is not None else ""
