from django import template

from retrieval.core.presenters import histogram_polylines

register = template.Library()


@register.inclusion_tag("retrieval/_histogram.html")
def histogram_chart(query, result, distance, width=168, height=56):
    """Query (filled) and result (dashed) histograms overlaid, per channel, with their distance."""
    return {"lines": histogram_polylines(query, result, width, height), "width": width, "height": height,
            "distance": distance, "channels": "".join(query.channels)}


@register.filter
def lookup(mapping, key):
    """``{{ row|lookup:name }}``: a dict's value by a variable key (blank when missing)."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
