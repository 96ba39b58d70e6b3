"""The styled error pages with DEBUG off: a missing page gets templates/404.html, a server
error templates/500.html (rendered with no request context), the API keeps its JSON 404."""

import pytest
from django.test import RequestFactory, override_settings
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_a_missing_page_gets_the_styled_404(client):
    response = client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "<title>Page not found · CBIR portal</title>" in html and '<p class="code" aria-hidden="true">404</p>' in html
    assert "There is no page at <code>/no/such/page/</code>" in html and 'href="/galleries/"' in html
    assert 'rel="icon" href="/static/favicon.svg"' in html


@override_settings(DEBUG=False)
def test_a_404_raised_with_a_message_shows_the_message(client):
    html = client.get("/training/999999/").content.decode()
    assert "There is no such training run (or it is not public)." in html and "Page not found" in html


@override_settings(DEBUG=False)
def test_the_500_page_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500 and "Something went wrong on the server" in html and ">500<" in html
    assert 'href="/static/css/pages.css"' in html


@override_settings(DEBUG=False)
def test_the_api_keeps_its_json_404(client):
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_the_favicon_is_served_and_linked(client):
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/galleries/").content.decode()
