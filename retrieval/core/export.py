"""A query's ranked results as CSV, one shared rendering for the pages' ``format=csv`` links
and the query API's ``?format=csv``."""

import csv
import io

from django.http import HttpResponse

COLUMNS = ("rank", "id", "label", "class_name", "distance", "histogram_distance", "image_url")


def csv_text(kind, outcome, request) -> str:
    """One row per result, in rank order, after the kind's leading cells (degraded: the row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*kind.row_columns, *COLUMNS))
    for lead, item in kind.rows(outcome):
        image = item.image
        writer.writerow((*lead, item.rank, image.pk, "" if image.label is None else image.label, image.label_name,
                         f"{item.distance:.6f}", f"{item.histogram_distance:.6f}",
                         request.build_absolute_uri(image.file.url)))
    return out.getvalue()


def csv_filename(kind, cleaned: dict) -> str:
    return f"{kind.name}-{cleaned['gallery'].slug}-k{cleaned['k']}-{cleaned['metric']}.csv"


def attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


def csv_response(kind, outcome, request, cleaned: dict) -> HttpResponse:
    response = HttpResponse(csv_text(kind, outcome, request), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment(csv_filename(kind, cleaned))
    return response
