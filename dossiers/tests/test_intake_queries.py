"""Queries of one counter intake through the API (POST /api/v1/dossiers/), outbox row included.

Fixed here so that a query per paper or per timeline entry cannot come back unnoticed: the count
is the same for a procedure of two papers and one of twelve, and for a dossier whose answer shows
one event or several."""

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from dossiers.models import ComponentKind, Dossier, ProcedureComponent
from dossiers.tests.factories import ProcedureFactory
from egov.middleware import tenant_cache
from notifications.models import Notification

HOST = {"HTTP_HOST": "danang.localhost"}
# 16 statements: the province's search path (once: TENANT_LIMIT_SET_CALLS); the token with its user,
# officer, department and permissions (1); the procedure, its papers and the reception points it may
# be received at (3; issue 15: the points, none = everywhere); the number (1, its own statement before
# the transaction); the transaction (savepoint, release), the dossier, its papers, its event (5); the
# outbox row in its savepoint (savepoint, the row, release: 3; the text is cached); the dashboard's
# figures (reports/figures.py refresh_dossier: the contribution row locked with the supplement
# requests read, then the counters and the row written: 2). The answer is built from what the intake
# wrote, in memory (the test below checks it equals a read). The calendar and the province's link
# come from the web process's tenant cache (egov/middleware.py; tests/test_tenant_data_cache.py
# attacks them). (Before: 19 with the permissions and the message text read apart; 21 with the answer
# read back (the dossier and its timeline); 42, with `SET search_path` before each statement, the
# officer and their department read apart, the calendar and the primary domain read on every intake;
# 56 before that, with a query per timeline entry's officer and department in the answer, the papers
# read twice, the dossier inserted then updated, and the "number already taken" check apart.)
MAX_QUERIES = 16


def _body(procedure):
    return {
        "procedure": procedure.code,
        "applicant": {"name": "Nguyễn Văn An", "id_number": "048090001234", "phone": "0905123456"},
        "components": [{"name": c.name, "count": 1} for c in procedure.components.all()],
        "citizen_note": "Hẹn trả theo giấy tiếp nhận.",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("papers", [2, 12])
def test_an_intake_through_the_api_costs_a_fixed_number_of_queries(
    in_danang, reception, django_assert_max_num_queries, papers
):
    procedure = ProcedureFactory()
    ProcedureComponent.objects.filter(procedure=procedure).delete()
    ProcedureComponent.objects.bulk_create(
        ProcedureComponent(procedure=procedure, position=i, name=f"Giấy tờ {i}", kind=ComponentKind.ORIGINAL)
        for i in range(papers)
    )
    cache = tenant_cache()
    cache.get("warm-up")  # starts this process's eviction listener: nothing is kept before it listens
    assert cache._subscribed.wait(10)
    token, _ = Token.objects.get_or_create(user=reception.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    body = json.dumps(_body(procedure))
    assert client.post("/api/v1/dossiers/", body, "application/json").status_code == 201  # caches warm

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.post("/api/v1/dossiers/", body, "application/json")

    assert response.status_code == 201, response.content
    dossier = Dossier.objects.get(code=response.json()["code"])
    assert dossier.components.count() == papers
    assert [e["action"] for e in response.json()["events"]] == ["receive"]
    assert Notification.objects.filter(dossier=dossier, event__action="receive").count() == 1


@pytest.mark.django_db
def test_the_intake_answer_from_memory_equals_the_dossier_read_back(in_danang, reception):
    """The answer is not read back from the database: it must say exactly what a later GET reads
    (every field, the timeline with its department, officer and actor, the actions on offer)."""
    procedure = ProcedureFactory()
    token, _ = Token.objects.get_or_create(user=reception.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    body = _body(procedure)
    body["internal_note"] = "Bản sao chưa chứng thực"
    created = client.post("/api/v1/dossiers/", json.dumps(body), "application/json")
    assert created.status_code == 201, created.content

    read = client.get(f"/api/v1/dossiers/{created.json()['id']}/")

    assert read.status_code == 200
    assert created.json() == read.json()
    assert created.json()["events"][0]["to_department"] == reception.department.code
    assert created.json()["events"][0]["actor"] == reception.user.username
