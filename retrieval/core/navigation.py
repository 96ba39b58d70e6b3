"""The navigation bar's links, made from the registered query kinds (a new kind's page appears
in the bar without a template edit), then the site's other sections."""

from retrieval.core.kinds import query_kinds

# The sections that are not query kinds: (title, path, whether sub-pages count as this section).
SECTIONS = (("Galleries", "/galleries/", True), ("Training", "/training/", True), ("API", "/api/docs/", False))


def navigation(request) -> dict:
    path = request.path
    links = [{"title": kind.title, "href": f"/{kind.page_path}", "current": path == f"/{kind.page_path}"}
             for kind in query_kinds()]
    links += [{"title": title, "href": href, "current": path.startswith(href) if nested else path == href}
              for title, href, nested in SECTIONS]
    return {"navigation": links}
