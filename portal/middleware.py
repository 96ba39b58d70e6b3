"""Request guards that run before any view: body size, HTTP methods, JSON nesting, the
warm-up, and ``Retry-After`` on every 503. Each answers the API in its JSON error shape and
pages with the error page."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render

PAGE_METHODS = ("GET", "HEAD", "POST")
API_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")  # DRF answers 405 per view
WARMING_RETRY_AFTER_S = 5


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def refuse(request, status: int, code: str, title: str, message: str, headers: dict | None = None):
    if is_api(request):
        response = JsonResponse({"error": code, "detail": message}, status=status)
    else:
        response = render(request, "error.html", {"title": title, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class UploadSizeLimitMiddleware:
    """Refuse oversized request bodies with 413 before Django reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return refuse(request, 413, "upload_too_large", "Upload too large", too_large_message(length))
        return self.get_response(request)


def too_large_message(length: int | None) -> str:
    limit = f"the limit is {settings.PORTAL_MAX_UPLOAD_BYTES / 1e6:.0f} MB"
    return f"The upload is {length / 1e6:.1f} MB; {limit}." if length else f"The upload is over the limit: {limit}."


class MethodAllowlistMiddleware:
    """TRACE, CONNECT, PROPFIND and any other method no view handles: 405, not the page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        allowed = API_METHODS if is_api(request) else PAGE_METHODS
        if request.method not in allowed:
            return refuse(request, 405, "method_not_allowed", "Method not allowed",
                          f"{request.method[:20]} is not allowed here; use {', '.join(allowed)}.",
                          {"Allow": ", ".join(allowed)})
        return self.get_response(request)


class JsonBodyGuardMiddleware:
    """A JSON body nested too deeply is a 400 here, before any parser recurses into it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH") and "json" in request.content_type:
            from retrieval.core.parsers import depth_problem

            try:
                problem = depth_problem(request.body)
            except RequestDataTooBig:  # no Content-Length, and more than the limit
                return refuse(request, 413, "upload_too_large", "Upload too large", too_large_message(None))
            if problem:
                return refuse(request, 400, "invalid_request", "Invalid request", problem)
        return self.get_response(request)


class WarmingUpMiddleware:
    """While the server process loads its models, queries are a 503 "warming up" (with
    Retry-After) rather than a wait; pages that need no model are served as usual."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._query_paths = None

    def __call__(self, request):
        from retrieval.core.runtime import warming

        if warming() and self._needs_models(request.path):
            return refuse(request, 503, "warming_up", "Warming up",
                          "The portal is warming up (loading its models): try again in a few seconds.",
                          {"Retry-After": str(WARMING_RETRY_AFTER_S), "Refresh": str(WARMING_RETRY_AFTER_S)})
        return self.get_response(request)

    def _needs_models(self, path: str) -> bool:
        if self._query_paths is None:
            from retrieval.core.kinds import query_kinds

            pages = {f"/{kind.page_path}" for kind in query_kinds()}
            apis = {f"/api/{route.path}" for kind in query_kinds() for route in kind.api}
            self._query_paths = (frozenset(pages | apis), ("/api/images/",))
        exact, prefixes = self._query_paths
        return path in exact or path.startswith(prefixes)


class RetryAfterMiddleware:
    """Every 503 says when to come back (a busy or warming server, an index being built)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            from retrieval.core.admission import RETRY_AFTER_S

            response["Retry-After"] = str(RETRY_AFTER_S)
        return response
