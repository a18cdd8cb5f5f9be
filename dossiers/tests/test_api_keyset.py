"""The officers' dossier list pages by cursor (keyset), searches folded text on an index, queries per page only."""

import datetime
import itertools
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers import workflow
from dossiers.models import Dossier, Status
from dossiers.tests.factories import ProcedureFactory, receive
from dossiers.tests.test_api import HOST, token_client
from dossiers.text import fold
from egov.api import KeysetPagination

pytestmark = pytest.mark.django_db
URL = "/api/v1/dossiers/"
SERIAL = itertools.count()


def copies(first, count, name=None, **fields):
    """``count`` copies of dossier ``first`` with their own codes, tokens and search text (bulk, no events)."""
    rows = []
    for _ in range(count):
        copy = Dossier.objects.get(pk=first.pk)
        serial = next(SERIAL)
        copy.pk, copy.code, copy.lookup_token = None, f"{first.code}-{serial:04d}", f"tok-{serial:039d}"
        if name:
            copy.applicant_name = name
        for field, value in fields.items():
            setattr(copy, field, value)
        copy.search_text = fold(f"{copy.code} {copy.applicant_name} {copy.applicant_id_number}")
        rows.append(copy)
    return Dossier.objects.bulk_create(rows)


def cursor_of(link):
    return parse_qs(urlsplit(link).query)["cursor"][0]


def walk(client, params, follow="next", start=None):
    """Every page from ``start`` (or the first) following ``follow`` links: a list of code lists."""
    pages = []
    response = client.get(start or URL, params if start is None else None, **HOST)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([d["code"] for d in body["results"]])
        if not body[follow]:
            return pages, body
        response = client.get(body[follow], **HOST)


def test_pages_cover_every_dossier_once_in_order_even_when_all_share_one_instant(reception):
    first = receive(reception)
    copies(first, 129)
    Dossier.objects.update(registered_at=timezone.now())  # a bulk import: one instant for all 130
    expected = list(Dossier.objects.order_by("-registered_at", "-id").values_list("code", flat=True))
    client = token_client(reception)
    pages, last = walk(client, {"limit": 50})
    assert [len(p) for p in pages] == [50, 50, 30]
    assert [code for page in pages for code in page] == expected
    assert "cursor=" in last["previous"] and "offset" not in last["previous"]
    # And back up from the last page: the same pages, newest first inside each.
    back, top = walk(client, None, follow="previous", start=last["previous"])
    assert back == pages[:2][::-1] and top["previous"] is None


def test_a_dossier_received_while_paging_neither_repeats_nor_hides_a_row(reception):
    first = receive(reception)
    copies(first, 59)
    client = token_client(reception)
    page1 = client.get(URL, {"limit": 30}, **HOST).json()
    receive(reception, name="Người Đến Sau")  # newest: goes to the top, not into page 2
    page2 = client.get(page1["next"], **HOST).json()
    codes = [d["code"] for d in page1["results"] + page2["results"]]
    assert len(codes) == len(set(codes)) == 60 and page2["next"] is None


def test_filters_and_search_are_kept_through_the_cursor(reception):
    first = receive(reception, name="Trần Thị Bích")
    wanted = receive(reception, name="Nguyễn Văn Đức")
    copies(wanted, 54, name="Nguyễn Văn Đức")
    copies(first, 40, name="Trần Thị Bích")
    client = token_client(reception)
    pages, _ = walk(client, {"limit": 20, "q": "nguyen van duc"})
    names = {name for page in pages for name in page}
    assert [len(p) for p in pages] == [20, 20, 15] and len(names) == 55
    assert Dossier.objects.filter(code__in=names).exclude(applicant_name="Nguyễn Văn Đức").count() == 0
    # A worklist with a cursor: page 2 holds only that worklist's dossiers.
    Dossier.objects.filter(applicant_name="Trần Thị Bích").update(status=Status.RESULT_READY)
    pages, _ = walk(client, {"limit": 25, "worklist": "result_ready"})
    codes = [c for page in pages for c in page]
    assert [len(p) for p in pages] == [25, 16] and set(codes) == set(
        Dossier.objects.filter(status=Status.RESULT_READY).values_list("code", flat=True)
    )


@pytest.mark.parametrize(
    "query, name",
    [
        ("Nguyen Van", "Nguyễn Văn Đức"),
        ("nguyễn văn đức", "Nguyễn Văn Đức"),
        ("NGUYEN VAN DUC", "Nguyễn Văn Đức"),
        ("duc nguyen", "Nguyễn Văn Đức"),  # every word, in any order
        ("Đặng Thị", "Đặng Thị Ánh"),
        ("dang thi anh", "Đặng Thị Ánh"),
    ],
)
def test_search_ignores_diacritics_and_case(reception, query, name):
    receive(reception, name="Nguyễn Văn Đức")
    receive(reception, name="Đặng Thị Ánh")
    receive(reception, name="Trần Thị Bích")
    body = token_client(reception).get(URL, {"q": query}, **HOST).json()
    assert [d["applicant_name"] for d in body["results"]] == [name]


def test_search_by_code_or_id_number_finds_the_dossier(reception):
    target = receive(reception, id_number="048190007777")
    receive(reception)
    client = token_client(reception)
    for query in (target.code, target.code.lower(), target.code[-8:], "048190007777"):
        codes = [d["code"] for d in client.get(URL, {"q": query}, **HOST).json()["results"]]
        assert codes == [target.code], query


def _plan(sql, *off):
    """The plan PostgreSQL picks when it cannot fall back on a full scan (a test table is tiny)."""
    switches = ("enable_seqscan", *off)
    with connection.cursor() as cursor:
        for switch in switches:
            cursor.execute(f"SET LOCAL {switch} = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        for switch in switches:
            cursor.execute(f"RESET {switch}")
    return plan


def _list_query(client, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params, **HOST).status_code == 200
    return next(q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"])


def test_the_page_and_the_search_are_answered_by_their_indexes(reception):
    """A deep page is an index range scan (not an OFFSET); a search uses the trigram index on folded text."""
    first = receive(reception)
    copies(first, 30)
    client = token_client(reception)
    page1 = client.get(URL, {"limit": 10}, **HOST).json()
    deep = _list_query(client, {"limit": 10, "cursor": cursor_of(page1["next"])})
    assert "OFFSET" not in deep
    # Without the bitmap scan either (which a tiny test table may prefer, sorting its few rows): the
    # index alone gives the page in its order.
    plan = _plan(deep, "enable_bitmapscan")
    assert "dossier_registered_desc" in plan and "Sort" not in plan, plan
    search = _list_query(client, {"q": "nguyen van an"})
    # Not by walking the date order and reading every row's text: the words are looked up in the index.
    plan = _plan(search, "enable_indexscan")
    assert "Bitmap Index Scan on dossier_search_trgm" in plan, plan


def test_an_edited_or_foreign_cursor_is_a_400_not_a_500_nor_other_rows(reception):
    first = receive(reception, name="Lê Thị Mai", phone="0912000111")
    copies(first, 20)
    client = token_client(reception)
    good = cursor_of(client.get(URL, {"limit": 5}, **HOST).json()["next"])
    value, signature = good.rsplit(":", 1)
    direction, stamp, pk = value.split(".")
    signer = signing.Signer(salt=f"egov.api.cursor:{connection.schema_name}:DossierViewSet")
    bad = [
        f"{direction}.{int(stamp) + 1}.{pk}:{signature}",  # edited position, old signature
        f"p.{stamp}.{pk}:{signature}",  # edited direction
        value,  # unsigned
        "",
        "garbage",
        "n.1.1:" + "A" * 43,
        signing.Signer(salt="egov.api.cursor:camau:DossierViewSet").sign(value),  # Cà Mau's cursor
        signer.sign("n.abc.1"),  # signed (a leaked key) but not a position: still no 500
        signer.sign("n.99999999999999999999999.1"),
        signer.sign("x.1.1"),
        signer.sign(f"n.{stamp}"),
        signer.sign("n.-1.²"),
    ]
    for cursor in bad:
        response = client.get(URL, {"cursor": cursor}, **HOST)
        assert response.status_code == 400, cursor
        assert response.json()["error"]["code"] == "invalid_page"
        assert "0912000111" not in response.content.decode()
    assert client.get(URL, {"cursor": good}, **HOST).status_code == 200


def test_offset_works_only_for_shallow_pages_and_never_with_a_cursor(reception):
    first = receive(reception)
    copies(first, 11)
    client = token_client(reception)
    codes = list(Dossier.objects.order_by("-registered_at", "-id").values_list("code", flat=True))
    shallow = client.get(URL, {"limit": 5, "offset": 5}, **HOST).json()
    assert [d["code"] for d in shallow["results"]] == codes[5:10]
    after = client.get(shallow["next"], **HOST).json()
    assert [d["code"] for d in after["results"]] == codes[10:] and "offset" not in shallow["next"]
    before = client.get(shallow["previous"], **HOST).json()
    assert [d["code"] for d in before["results"]] == codes[:5]
    assert client.get(URL, {"offset": 1000}, **HOST).status_code == 200
    deep = client.get(URL, {"offset": 1001}, **HOST)
    assert deep.status_code == 400 and "next" in deep.json()["error"]["message"]
    mixed = client.get(URL, {"cursor": cursor_of(shallow["next"]), "offset": 0}, **HOST)
    assert mixed.status_code == 400 and mixed.json()["error"]["code"] == "invalid_page"


def test_count_is_exact_up_to_the_limit_then_says_more(reception, monkeypatch):
    first = receive(reception)
    copies(first, 11)
    client = token_client(reception)
    body = client.get(URL, {"limit": 5}, **HOST).json()
    assert (body["count"], body["count_exact"]) == (12, True)
    monkeypatch.setattr(KeysetPagination, "count_limit", 12)
    assert client.get(URL, **HOST).json()["count_exact"] is True
    monkeypatch.setattr(KeysetPagination, "count_limit", 7)
    body = client.get(URL, **HOST).json()
    assert (body["count"], body["count_exact"], len(body["results"])) == (7, False, 12)
    # A list that fits on its first page is counted from the page itself, without a COUNT query.
    with CaptureQueriesContext(connection) as queries:
        body = client.get(URL, {"q": Dossier.objects.exclude(pk=first.pk).first().code}, **HOST).json()
    assert (body["count"], body["count_exact"]) == (1, True)
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]
    body = client.get(URL, {"limit": 5, "offset": 10}, **HOST).json()
    assert (body["count"], body["count_exact"], len(body["results"])) == (7, False, 2)


def _queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params, **HOST)
    assert response.status_code == 200
    return len(queries.captured_queries), response.json()


def test_a_page_costs_the_same_queries_for_3_or_59_dossiers(reception, specialist, ward):
    """No query per row: holder, procedure, department and each row's available actions come with the page."""
    procedure = ProcedureFactory()
    for client in (token_client(reception), token_client(specialist)):
        client.get(URL, **HOST)  # the token, the officer, the permissions: cached per request anyway
    first = receive(reception, procedure=procedure)
    copies(first, 2, current_department=ward, current_officer=specialist)
    few = {who: _queries(token_client(o), {"limit": 100}) for who, o in (("r", reception), ("s", specialist))}
    other = ProcedureFactory(code="2.000001")
    second = receive(reception, procedure=other)
    copies(second, 28, name="x", status=Status.RESULT_READY, current_department=ward)
    copies(first, 27, name="y", current_department=ward, current_officer=specialist)
    many = {who: _queries(token_client(o), {"limit": 100}) for who, o in (("r", reception), ("s", specialist))}
    assert len(many["r"][1]["results"]) == 59 and len(few["r"][1]["results"]) == 3
    assert len(many["s"][1]["results"]) > len(few["s"][1]["results"]) >= 2
    # Each row's actions and label are that dossier's own, though worked out once per kind of row.
    for officer, who in ((reception, "r"), (specialist, "s")):
        for row in many[who][1]["results"]:
            dossier = Dossier.objects.get(pk=row["id"])
            assert row["available_actions"] == [a.key for a in workflow.actions_for(officer, dossier)]
            assert row["status_label"] == dossier.get_status_display()
    assert {a for d in many["s"][1]["results"] for a in d["available_actions"]} >= {"hand_over"}
    for who in ("r", "s"):
        assert many[who][0] == few[who][0], who


def test_the_schema_describes_cursor_paging(in_danang):
    from django.test import Client

    schema = Client().get("/api/schema/", {"format": "json"}, **HOST).json()
    operation = schema["paths"]["/api/v1/dossiers/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["limit"]["schema"]["maximum"] == 100 and parameters["offset"]["schema"]["maximum"] == 1000
    assert {"cursor", "q", "worklist", "status", "procedure"} <= parameters.keys()
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"count", "count_exact", "next", "previous", "results"} <= schema["components"]["schemas"][page][
        "properties"
    ].keys()
    assert "q" not in {p["name"] for p in schema["paths"]["/api/v1/dossiers/{id}/"]["get"].get("parameters", [])}


def test_timestamps_round_trip_through_the_cursor_to_the_microsecond(reception):
    first = receive(reception)
    rows = copies(first, 3)
    base = datetime.datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=datetime.UTC)
    for n, row in enumerate([first, *rows]):
        Dossier.objects.filter(pk=row.pk).update(registered_at=base + datetime.timedelta(microseconds=n))
    pages, _ = walk(token_client(reception), {"limit": 1})
    assert [p[0] for p in pages] == list(
        Dossier.objects.order_by("-registered_at", "-id").values_list("code", flat=True)
    )
