"""The procedure an intake names and the province's message texts, kept in the web process's tenant
cache (dossiers/intake_procedures.py, notifications/texts.py). Attacked through the API intake: a
procedure closed, a paper made required, a reception point taken away or renamed, a code changed, a
text edited: the very next intake obeys (in the writing transaction, and everywhere after the
commit); a rolled-back change is never kept; one province never gets another's procedure; a caller
changing its copy does not change what the next intake reads."""

import json
import time

import pytest
from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from dossiers.intake_procedures import PREFIX, active_procedure
from dossiers.models import ComponentKind, Dossier, ProcedureComponent
from dossiers.tests.factories import DepartmentFactory, ProcedureFactory
from dossiers.tests.test_tenant_data_cache import committed, listening_tenant_cache, own_eviction_heard
from notifications.models import MessageText, Notification
from notifications.texts import TEXT_PREFIX, province_text

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


@pytest.fixture(autouse=True)
def warm(settings):
    yield from listening_tenant_cache(settings)


@pytest.fixture
def api(reception):
    token, _ = Token.objects.get_or_create(user=reception.user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)


def intake(api, procedure_code, papers):
    body = {
        "procedure": procedure_code,
        "applicant": {"name": "Trần Thị Bình", "id_number": "048090001234", "phone": "0905123456"},
        "components": [{"name": name, "count": 1} for name in papers],
    }
    return api.post("/api/v1/dossiers/", json.dumps(body), "application/json")


def papers_of(procedure):
    return [c.name for c in procedure.components.all()]


def kept(warm, key, read):
    """`read()` until its answer is kept under `key`: the evictions the test's own writes announced come
    back on the channel a moment later, and a value read while one arrives is rightly not kept."""
    deadline = time.monotonic() + 10
    while True:
        value = read()
        if warm.get(key) is not None:
            return value
        assert time.monotonic() < deadline, f"{key} never kept"
        time.sleep(0.005)


def made(**fields):
    """A procedure as if created in an earlier, committed transaction (else this one bypasses the cache)."""
    with committed():
        return ProcedureFactory(**fields)


def test_a_closed_procedure_is_refused_by_the_next_intake_here_and_after_the_commit(api, warm):
    procedure = made()
    assert intake(api, procedure.code, papers_of(procedure)).status_code == 201
    kept(warm, PREFIX + "danang:" + procedure.code, lambda: active_procedure(procedure.code))

    with committed():
        since = warm.generation
        procedure.is_active = False
        procedure.save()
        own_eviction_heard(warm, since)
        inside = intake(api, procedure.code, papers_of(procedure))
        assert inside.status_code == 400, inside.content  # the writing transaction reads its own row
        assert warm.get(PREFIX + "danang:" + procedure.code) is None
    after = intake(api, procedure.code, papers_of(procedure))
    assert after.status_code == 400
    assert after.json()["error"]["fields"]["procedure"]


def test_a_paper_made_required_is_asked_by_the_next_intake(api, warm):
    procedure = made()
    given = papers_of(procedure)
    assert intake(api, procedure.code, given).status_code == 201
    kept(warm, PREFIX + "danang:" + procedure.code, lambda: active_procedure(procedure.code))
    with committed():
        ProcedureComponent.objects.create(
            procedure=procedure, position=9, name="Sổ hộ khẩu", kind=ComponentKind.ORIGINAL, required=True
        )
    refused = intake(api, procedure.code, given)
    assert refused.status_code == 400
    assert "Sổ hộ khẩu" in refused.content.decode()
    assert intake(api, procedure.code, [*given, "Sổ hộ khẩu"]).status_code == 201
    with committed():
        ProcedureComponent.objects.get(procedure=procedure, name="Sổ hộ khẩu").delete()
    refused = intake(api, procedure.code, [*given, "Sổ hộ khẩu"])  # no such paper any more
    assert refused.status_code == 400
    assert intake(api, procedure.code, given).status_code == 201


def test_a_point_taken_away_or_closed_or_renamed_is_obeyed_at_once(api, reception, warm):
    procedure = made()
    with committed():
        elsewhere = DepartmentFactory(code="PHUONG-HC", name="Phường Hải Châu", is_reception=True)
    assert intake(api, procedure.code, papers_of(procedure)).status_code == 201  # no list: everywhere
    kept(warm, PREFIX + "danang:" + procedure.code, lambda: active_procedure(procedure.code))

    with committed():
        procedure.reception_points.add(elsewhere)  # from the procedure's side
    refused = intake(api, procedure.code, papers_of(procedure))
    assert refused.status_code == 400
    assert "Phường Hải Châu" in refused.content.decode()

    with committed():
        elsewhere.name = "Phường Hải Châu mới"  # the refusal names the point as it is now
        elsewhere.save()
    assert "Phường Hải Châu mới" in intake(api, procedure.code, papers_of(procedure)).content.decode()

    with committed():
        reception.department.receivable_procedures.add(procedure)  # from the point's side
    assert intake(api, procedure.code, papers_of(procedure)).status_code == 201
    with committed():
        reception.department.receivable_procedures.clear()
    assert intake(api, procedure.code, papers_of(procedure)).status_code == 400
    with committed():
        procedure.reception_points.clear()
    assert intake(api, procedure.code, papers_of(procedure)).status_code == 201


def test_a_changed_code_stops_answering_by_the_old_one(api, warm):
    procedure = made(code="1.000001")
    assert intake(api, "1.000001", papers_of(procedure)).status_code == 201
    kept(warm, PREFIX + "danang:1.000001", lambda: active_procedure("1.000001"))
    with committed():
        procedure.code = "1.000002"
        procedure.save()
    assert intake(api, "1.000001", papers_of(procedure)).status_code == 400
    created = intake(api, "1.000002", papers_of(procedure))
    assert created.status_code == 201
    assert Dossier.objects.get(pk=created.json()["id"]).procedure_id == procedure.pk


def test_a_rolled_back_closing_is_never_kept(api, warm):
    procedure = made()
    kept(warm, PREFIX + "danang:" + procedure.code, lambda: active_procedure(procedure.code))
    with pytest.raises(RuntimeError), transaction.atomic():
        since = warm.generation
        procedure.is_active = False
        procedure.save()
        own_eviction_heard(warm, since)
        assert active_procedure(procedure.code) is None  # its own transaction sees it closed...
        raise RuntimeError
    assert active_procedure(procedure.code) is not None  # ...nobody else, before or after the rollback
    assert intake(api, procedure.code, papers_of(procedure)).status_code == 201


def test_one_province_never_gets_anothers_procedure_of_the_same_code(in_danang, camau, warm):
    made(code="2.000777", name="Thủ tục của Đà Nẵng")
    assert kept(warm, PREFIX + "danang:2.000777", lambda: active_procedure("2.000777")).name == "Thủ tục của Đà Nẵng"
    with tenant_context(camau):
        assert active_procedure("2.000777") is None  # not there: not Đà Nẵng's either
        made(code="2.000777", name="Thủ tục của Cà Mau")
        in_camau = kept(warm, PREFIX + "camau:2.000777", lambda: active_procedure("2.000777"))
        assert in_camau.name == "Thủ tục của Cà Mau"
    assert active_procedure("2.000777").name == "Thủ tục của Đà Nẵng"


def test_a_caller_changing_its_copy_changes_nothing_shared(in_danang, warm):
    made(code="3.000001", processing_days=3)
    mine = kept(warm, PREFIX + "danang:3.000001", lambda: active_procedure("3.000001"))
    mine.processing_days = 99
    mine.name = "đổi trong bộ nhớ"
    again = active_procedure("3.000001")
    assert (again.processing_days, again.name) != (99, "đổi trong bộ nhớ")
    assert again is not mine


def test_a_texts_edit_or_removal_is_in_the_next_receipt(api, warm):
    procedure = made()

    def receipt_text():
        created = intake(api, procedure.code, papers_of(procedure))
        assert created.status_code == 201
        return Notification.objects.get(dossier_id=created.json()["id"], event__action="receive").text

    default = receipt_text()
    assert kept(warm, TEXT_PREFIX + "danang:receipt", lambda: province_text("receipt")) == ""  # "none" kept too
    with committed():
        text = MessageText.objects.create(kind="receipt", text="Đà Nẵng đã nhận hồ sơ {code}.")
    assert receipt_text().startswith("Đà Nẵng đã nhận hồ sơ ")
    with committed():
        text.text = "Thành phố tiếp nhận hồ sơ {code}."
        text.save()
    assert receipt_text().startswith("Thành phố tiếp nhận hồ sơ ")
    with committed():
        text.kind = "result_ready"  # moved to another kind: the receipt is back to the default
        text.save()
    back = receipt_text()
    assert back.split(" ")[:2] == default.split(" ")[:2] == ["Hồ", "sơ"]  # the default wording
    assert "Thành phố" not in back
    with committed():
        text.delete()
    assert warm.get(TEXT_PREFIX + "danang:result_ready") is None
