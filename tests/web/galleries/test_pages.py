"""The gallery pages through Django's test client, on the tiny imported gallery: the class
chips follow the filter, page jumps (first, last, go to page) work as plain links and a GET
form, and an image page names its class, marks neighbours of that class and links onwards."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def chips(html: str) -> dict[str, bool]:
    """Each class chip's name and whether it is marked current."""
    nav = html[html.index('aria-label="Filter by class"'):]
    nav = nav[:nav.index("</nav>")]
    found = re.findall(r'<a href="[^"]*"( aria-current="true")? data-label="[^"]*">([^<]+?) <small>', nav)
    return {name.strip(): bool(current) for current, name in found}


def test_all_is_the_active_chip_without_a_filter(client, gallery):
    marks = chips(client.get(reverse("retrieval:gallery", args=[gallery.slug])).content.decode())
    assert marks["All"] and sum(marks.values()) == 1 and len(marks) == 1 + len(gallery.class_names)


def test_the_chosen_class_is_the_active_chip(client, gallery):
    html = client.get(reverse("retrieval:gallery", args=[gallery.slug]), {"label": 1}).content.decode()
    marks = chips(html)
    assert marks[gallery.class_names[1]] and not marks["All"] and sum(marks.values()) == 1
    assert f"of class {gallery.class_names[1]}" in html


def test_an_htmx_swap_carries_the_chips_too(client, gallery):
    response = client.get(reverse("retrieval:gallery", args=[gallery.slug]), {"label": 2}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("{#") is False and 'id="gallery-grid"' in html and "<header" not in html
    assert chips(html)[gallery.class_names[2]]


def test_page_jumps_keep_the_filter(client, gallery):
    url = reverse("retrieval:gallery", args=[gallery.slug])
    first = client.get(url, {"split": "test"})
    last_page = first.context["page"].paginator.num_pages
    assert last_page > 2
    html = client.get(url, {"split": "test", "page": 2}).content.decode()
    assert 'href="?split=test&amp;page=1" rel="first"' in html
    assert f'href="?split=test&amp;page={last_page}" rel="last"' in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    form = html[html.index('class="page-jump"'):]
    form = form[:form.index("</form>")]
    assert 'name="split" value="test"' in form and f'max="{last_page}"' in form and 'value="2"' in form
    filtered = client.get(url, {"split": "test", "label": 3})
    assert filtered.context["filter_query"] == "split=test&label=3"
    assert filtered.context["page"].paginator.num_pages == 1 and 'class="pager"' not in filtered.content.decode()


def test_first_and_last_pages_disable_their_own_jumps(client, gallery):
    url = reverse("retrieval:gallery", args=[gallery.slug])
    html = client.get(url, {"page": 1}).content.decode()
    assert 'rel="first"' not in html and 'rel="prev"' not in html and 'rel="last"' in html


@pytest.mark.parametrize(("asked", "shown"), [("999", "last"), ("-3", 1), ("0", 1), ("two", 1), ("99999999999999999999", "last")])
def test_a_page_out_of_range_clamps_and_says_so(client, gallery, asked, shown):
    url = reverse("retrieval:gallery", args=[gallery.slug])
    response = client.get(url, {"page": asked})
    assert response.status_code == 200
    page = response.context["page"]
    assert page.number == (page.paginator.num_pages if shown == "last" else shown)
    assert "There is no page" in response.content.decode()


def test_a_valid_page_says_nothing_about_moving(client, gallery):
    response = client.get(reverse("retrieval:gallery", args=[gallery.slug]), {"page": "2"})
    assert response.context["page"].number == 2 and "There is no page" not in response.content.decode()


def test_image_page_names_the_class_not_the_label_number(client, gallery):
    image = gallery.images.filter(split="train", label=1).first()
    html = client.get(image.get_absolute_url(), {"k": 10}).content.decode()
    assert f'<h1 id="image-class">{gallery.class_names[1]}</h1>' in html
    assert "label 1" not in html


def test_image_page_marks_neighbours_of_the_same_class_and_counts_them(client, gallery):
    image = gallery.images.filter(split="train").first()
    response = client.get(image.get_absolute_url(), {"k": 10})
    neighbours = response.context["neighbours"]
    same = sum(n.image.label == image.label for n in neighbours)
    assert len(neighbours) == 10 and response.context["same_class"] == same
    html = response.content.decode()
    assert f"{same} of 10</strong> share its class ({image.label_name})" in html
    assert html.count('title="same class as the query"') == same


def test_image_page_links_to_the_three_query_pages(client, gallery):
    image = gallery.images.filter(split="test").first()
    html = client.get(image.get_absolute_url()).content.decode()
    assert f'href="/?example={image.pk}"' in html
    assert f'href="/sketch/?trace={image.pk}"' in html
    assert f'href="/degraded/?example={image.pk}"' in html


def test_image_page_of_another_gallery_is_404(client, gallery):
    image = gallery.images.first()
    assert client.get(f"/galleries/other/images/{image.pk}/").status_code == 404
