"""Adding a query kind is one registration: a tiny kind registered here, in-process, gets its
page (with a link that reproduces it), its websocket messages and its API route (JSON and
CSV) from the generic plumbing alone; it is removed again afterwards."""

import json
import sys
import types

import pytest
from django.urls import include, path

from retrieval.core.forms import ImageSearchForm
from retrieval.core.kinds import QueryApi, QueryKind, register_kind, unregister_kind
from retrieval.core.streams import QueryStream
from tests.conftest import data_url
from tests.support.queries import csv_rows, query_state, result_links
from tests.support.sockets import connect, receive_until_done

RESULTS = ('{% include "retrieval/_query_state.html" %}<section id="echo-results">{% for item in outcome.results %}'
           '<li class="result-card" data-rank="{{ item.rank }}"><a class="thumb" href="{{ item.image.pk }}"></a></li>'
           '{% endfor %}</section>')


def _search(cleaned):
    from retrieval.search.services import image_search

    return image_search(gallery=cleaned["gallery"], data=cleaned["image_bytes"], k=cleaned["k"], metric=cleaned["metric"])


def _stream(cleaned, example):
    outcome = _search(cleaned)
    return {"outcome": None}, QueryStream(items=iter(outcome.results), card=lambda item: f"<li>{item.rank}</li>",
                                          done=lambda shown: f'<p class="status done">{shown} echoed</p>')


class EchoResponse:
    def __init__(self, outcome, context=None):
        self.data = {"ids": [item.image.pk for item in outcome.results]}


ECHO = QueryKind(
    name="echo", title="Echo", page_path="echo/", page_name="echo", form=ImageSearchForm, search=_search,
    stream=_stream, results=lambda form, outcome, example: {"outcome": outcome},
    page_context=lambda form: {}, page_template="echo/page.html", results_template="echo/_results.html",
    rows=lambda outcome: (((), item) for item in outcome.results),
    query_api=QueryApi(path="echo/", name="echo", summary="Echo", description="Echo a search.",
                       request=type("EchoRequest", (), {}), response=EchoResponse),
)


@pytest.fixture
def echo_kind(settings, tmp_path):
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "_results.html").write_text(RESULTS)
    (tmp_path / "echo" / "page.html").write_text('<main>{% include "echo/_results.html" %}</main>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    register_kind(ECHO)
    from retrieval import urls

    module = types.ModuleType("echo_urls")
    module.urlpatterns = [path("", include((urls.page_patterns(), "retrieval"))),
                          path("api/", include((urls.api_patterns(), "api")))]
    sys.modules["echo_urls"] = module
    settings.ROOT_URLCONF = "echo_urls"
    yield ECHO
    unregister_kind("echo")
    del sys.modules["echo_urls"]


@pytest.mark.django_db
def test_a_registered_kind_has_a_page_a_link_and_csv(client, gallery, echo_kind, query_png):
    posted = client.post("/echo/", {"image_data": data_url(query_png), "k": 3}).content.decode()
    state = query_state(posted)
    assert state["link"].startswith("/echo/?q=") and len(result_links(posted)) == 3
    assert result_links(client.get(state["link"]).content.decode()) == result_links(posted)
    assert len(csv_rows(client.get(state["csv"]))) == 3


@pytest.mark.django_db
def test_a_registered_kind_has_an_api_route(client, gallery, echo_kind, query_png):
    body = client.post("/api/echo/", {"image_data": data_url(query_png), "k": 2}, content_type="application/json")
    assert body.status_code == 200 and len(body.json()["ids"]) == 2
    assert len(csv_rows(client.post("/api/echo/?format=csv", {"image_data": data_url(query_png), "k": 2}))) == 2


@pytest.mark.django_db
async def test_a_registered_kind_answers_its_websocket_messages(gallery, echo_kind, query_png):
    communicator = await connect()
    await communicator.send_to(text_data=json.dumps({"type": "echo", "image": data_url(query_png), "k": 2}))
    messages = await receive_until_done(communicator)
    assert "/echo/?q=" in query_state(messages[0])["link"] and "2 echoed" in messages[-1]
    await communicator.disconnect()


def test_a_registered_kind_is_in_the_navigation_bar(rf, echo_kind):
    from retrieval.core.navigation import navigation

    links = navigation(rf.get("/echo/"))["navigation"]
    echo = next(link for link in links if link["href"] == "/echo/")
    assert echo["title"] == ECHO.title and echo["current"]
    assert [link["current"] for link in links].count(True) == 1
    assert navigation(rf.get("/galleries/fashion-mnist/"))["navigation"][-3] == {
        "title": "Galleries", "href": "/galleries/", "current": True}


@pytest.mark.django_db
def test_every_page_shows_every_registered_kind_in_its_navigation_bar(client):
    from retrieval.core.kinds import query_kinds

    html = client.get("/galleries/").content.decode()
    nav = html[html.index('<nav aria-label="Main">'):html.index("</nav>")]
    for kind in query_kinds():
        assert f'href="/{kind.page_path}"' in nav and kind.title in nav
    assert 'href="/galleries/" aria-current="page"' in nav


def test_the_kind_is_gone_afterwards():
    from retrieval.core.kinds import QUERY_KINDS

    assert "echo" not in QUERY_KINDS
