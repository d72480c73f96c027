"""The shared page links: first, last and two either side of the current page, keeping the filters."""
import re
from types import SimpleNamespace

from flask import render_template_string

TEMPLATE = ('{% from "macros/pagination.html" import pager %}'
            '{{ pager(page, "tasks.index", {"status": "pending"}, htmx=htmx) }}')


def render(app, current, pages, htmx=True):
    with app.test_request_context("/tasks"):
        return render_template_string(TEMPLATE, page=SimpleNamespace(page=current, pages=pages), htmx=htmx)


def test_links_around_the_current_page_keep_the_filters(app):
    html = render(app, 5, 10)
    links = re.findall(r'<a href="/tasks\?page=(\d+)&amp;status=pending" hx-get="[^"]+" hx-push-url="true">', html)
    assert links == ["1", "3", "4", "6", "7", "10"]
    assert '<span class="current" aria-current="page">5</span>' in html
    assert html.count("<span>…</span>") == 2


def test_plain_pages_link_without_htmx_and_one_page_shows_no_links(app):
    html = render(app, 1, 2, htmx=False)
    assert '<a href="/tasks?page=2&amp;status=pending">2</a>' in html and "hx-get" not in html
    assert "pagination" not in render(app, 1, 1)
