"""The dossier list's rows and pages built for a million dossiers (issue 12) are Django's admin's own.

The rows (dossiers/admin_rows.py) are worked out once per page instead of once per cell: the HTML
must be what Django's ``items_for_result`` makes, byte for byte, for every kind of dossier, with
the filters a link carries. The pages (EstimatedCountPaginator.rows) take their keys first and
their rows after: each page must hold the same dossiers in the same order as Django's slice, the
list's conditions (what the officer may see) in force on every page, and the list reads no
column per row (it reads only the columns it shows).
"""

import re

import pytest
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.contrib.admin.templatetags.admin_list import results as django_results
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import otp_login
from dossiers import admin as dossier_admin
from dossiers import admin_rows, selectors
from dossiers.models import Dossier, Status
from dossiers.tests.factories import receive
from dossiers.tests.test_worklists import build
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
CHANGELIST = "admin:dossiers_dossier_changelist"


@pytest.fixture
def world(officers, other_department):
    """The roles of test_worklist_scale, and the officers of another department build() hands dossiers to."""
    return {
        **officers,
        "other_specialist": OfficerFactory(role="specialist", department=other_department, user__username="cv.sxd"),
        "other_leader": OfficerFactory(role="leader", department=other_department, user__username="ld.sxd"),
    }


def changelist(client, params):
    response = client.get(reverse(CHANGELIST), params, **HOST)
    assert response.status_code == 200, (params, response.status_code)
    return response


def client_of(officer):
    client = Client()
    otp_login(client, officer.user)
    return client


def django_rows(cl):
    return ["".join(items_for_result(cl, result, None)) for result in cl.result_list]


@pytest.mark.parametrize(
    "role,params",
    [
        ("reception", {"worklist": "all"}),
        ("reception", {"worklist": "all", "status__exact": str(Status.IN_PROGRESS), "o": "2"}),  # links keep filters
        ("reception", {"worklist": "overdue"}),
        ("reception", {"worklist": "all", "q": "lê thị"}),
        ("specialist", {"worklist": "all"}),
        ("leader", {"worklist": "to_sign"}),
    ],
)
def test_each_row_is_djangos_byte_for_byte_and_reads_nothing_more(world, role, params):
    made = build(world)
    assert {d.status for d in made.values()} >= {Status.REGISTERED, Status.IN_PROGRESS, Status.RETURNED}
    response = changelist(client_of(world[role]), params)
    cl = response.context["cl"]
    cl.formset = None  # as changelist_view leaves it for a list that is not editable
    with CaptureQueriesContext(connection) as ctx:
        ours = [row[0] for row in admin_rows.rows(cl)]
    theirs = django_rows(cl)
    assert not ctx.captured_queries  # every column the cells show came with the page's query
    assert ours == theirs
    page = response.content.decode()
    for row in ours:
        assert f"<tr>{row}</tr>" in page
    if params.get("status__exact"):  # the filters are kept in each change link, as Django keeps them
        assert all("_changelist_filters=" in row for row in ours)


def test_a_row_of_each_kind_of_dossier_is_shown(world):
    """Not an empty list compared with an empty list: every column of every kind of dossier."""
    made = build(world)
    response = changelist(client_of(world["reception"]), {"worklist": "all"})
    cl = response.context["cl"]
    cl.formset = None
    shown = {row.split('class="field-code"', 1)[1].split("</a>", 1)[0].rsplit(">", 1)[1] for row in django_rows(cl)}
    assert {d.code for d in made.values()} <= shown
    html = "".join(row[0] for row in admin_rows.rows(cl))
    for column in ("code", "applicant_name", "procedure_name", "status", "holder", "appointment", "deadline", "grade"):
        assert f'class="field-{column}' in html
    assert "Quá hạn" in html and "Sắp đến hạn" in html and "Tạm dừng" in html  # the deadline column's three states


def test_a_list_django_renders_otherwise_goes_through_django(world):
    build(world)
    response = changelist(client_of(world["reception"]), {"worklist": "all"})
    cl = response.context["cl"]
    cl.formset = None
    cl.is_popup = True  # a popup's rows carry data-popup-opener: Django's own rows
    assert not admin_rows.fast_path_applies(cl)
    assert [row[0] if len(row) == 1 else "".join(row) for row in admin_rows.rows(cl)] == [
        "".join(row) for row in django_results(cl)
    ]


# --- pages: keys first, rows after -----------------------------------------------------------------


def codes_on(page_html):
    return re.findall(r'class="field-code"><a href="[^"]*">([^<]+)</a>', page_html)


def expected_codes(queryset):
    return list(queryset.order_by("-registered_at", "-pk").values_list("code", flat=True))


@pytest.mark.parametrize(
    "role,params",
    [
        ("reception", {"worklist": "all"}),
        ("reception", {"worklist": "all", "status__exact": str(Status.IN_PROGRESS)}),
        ("reception", {"worklist": "all", "q": "lê"}),
        ("specialist", {"worklist": "all"}),  # only the department's: the condition holds on every page
        ("specialist", {"worklist": "department"}),
        ("leader", {"worklist": "to_sign"}),
    ],
)
def test_every_page_holds_the_lists_rows_in_its_order_however_deep(world, role, params, monkeypatch):
    monkeypatch.setattr(dossier_admin.DossierAdmin, "list_per_page", 2)
    build(world)
    build(world)  # two of each: the lists hold several pages
    officer = world[role]
    user = officer.user
    visible = selectors.visible_dossiers(user)
    if params["worklist"] != "all":
        visible = visible.filter(selectors.worklist_filter(params["worklist"], user))
    if "status__exact" in params:
        visible = visible.filter(status=params["status__exact"])
    if "q" in params:
        visible = visible.filter(search_text__contains="le")
    wanted = expected_codes(visible)
    assert len(wanted) >= 4, wanted  # two pages at least (the second one past an OFFSET)
    client = client_of(officer)
    shown = []
    for number in range(1, (len(wanted) + 1) // 2 + 1):
        with CaptureQueriesContext(connection) as ctx:
            page = changelist(client, {**params, "p": number}).content.decode()
        shown += codes_on(page)
        listing = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "dossiers_dossier"."id"')]
        # One query for the page: its keys by LIMIT/OFFSET inside, its rows by those keys alone outside.
        assert len(listing) == 1, listing
        outer, inner = listing[0].split(" IN (SELECT ", 1)
        assert outer.endswith(' WHERE "dossiers_dossier"."id"'), outer  # nothing else on the outer query
        offset = re.search(r"LIMIT \d+(?: OFFSET (\d+))?\)", inner)
        assert offset and int(offset.group(1) or 0) == (number - 1) * 2, inner
    assert shown == wanted
    # Django's plain slice gives the same pages (the paginator's own rows, compared directly).
    paginator = dossier_admin.EstimatedCountPaginator(visible.order_by("-registered_at", "-pk"), 2)
    for number in paginator.page_range:
        page = paginator.page(number)
        assert [d.code for d in page.object_list] == wanted[(number - 1) * 2 : number * 2]


def test_a_page_past_the_estimate_takes_its_keys_the_same_way(officers, monkeypatch):
    monkeypatch.setattr(dossier_admin, "ESTIMATE_ABOVE", 2)
    made = [receive(officers["reception"]) for _ in range(5)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dossiers_dossier")
    made += [receive(officers["reception"]) for _ in range(4)]  # after the statistics: past the estimate
    paginator = dossier_admin.EstimatedCountPaginator(Dossier.objects.order_by("-registered_at", "-pk"), 2)
    assert paginator.count == 5 and paginator.estimated and paginator.num_pages == 3
    assert [d.pk for d in paginator.page(5).object_list] == [made[0].pk]  # the oldest, alone on page 5
    assert list(paginator.page(6).object_list) == []


def test_a_list_that_is_not_a_queryset_is_sliced():
    paginator = dossier_admin.EstimatedCountPaginator(list(range(7)), 3)
    paginator.count = 7
    assert list(paginator.page(3).object_list) == [6]
