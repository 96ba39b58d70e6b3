from django import template

from retrieval.core.presenters import histogram_chart as chart_context

register = template.Library()


@register.inclusion_tag("retrieval/_histogram.html")
def histogram_chart(query, result, distance, width=240, height=120):
    """Query (filled) and result (dashed) histograms overlaid, per channel, with axes, legend and their distance."""
    return chart_context(query, result, distance, width=width, height=height)


@register.filter
def lookup(mapping, key):
    """``{{ row|lookup:name }}``: a dict's value by a variable key (blank when missing)."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
