"""Refuse oversized request bodies with 413 before Django reads them."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


class UploadSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            message = f"The upload is {length / 1e6:.1f} MB; the limit is {settings.PORTAL_MAX_UPLOAD_BYTES / 1e6:.0f} MB."
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "upload_too_large", "detail": message}, status=413)
            return render(request, "error.html", {"title": "Upload too large", "message": message}, status=413)
        return self.get_response(request)
