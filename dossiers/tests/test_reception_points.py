"""Reception points (issue 15): each point's agency code and daily sequence, where a procedure may be
received, results returned where the dossier was handed in, the citizen's choice of point online."""

import importlib
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from dossiers import selectors, services
from dossiers.models import Channel, Dossier, DossierComponent, DossierCounter, DossierEvent, Procedure, Status
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from notifications.models import Notification
from offices.models import Department, PointKind
from offices.points import province_centre, ward_agency_code, wards_of
from offices.tests.factories import OfficerFactory

HOST = {"HTTP_HOST": "danang.localhost"}
# Four real wards of Đà Nẵng (admin code 48), by official code.
WARDS = (("20242", "Phường Hải Châu"), ("20209", "Phường Thanh Khê"), ("20263", "Phường Sơn Trà"))


def make_point(code, name, *, agency_code, kind=PointKind.WARD, ward_code="", **extra):
    point = Department(
        code=code,
        name=name,
        is_reception=True,
        point_kind=kind,
        agency_code=agency_code,
        ward_code=ward_code,
        address=extra.pop("address", f"Trụ sở {name}"),
        opening_hours=extra.pop("opening_hours", "7:30–17:00, thứ Hai đến thứ Sáu"),
        **extra,
    )
    point.full_clean()
    point.save()
    return point


def ward_point(danang, ward_code, name):
    return make_point(
        f"MC-{ward_code}",
        f"Bộ phận một cửa {name}",
        agency_code=ward_agency_code(danang.agency_code, danang.admin_code, ward_code),
        ward_code=ward_code,
    )


# --- the agency-code scheme ----------------------------------------------------------------------


def test_ward_agency_codes_follow_the_documented_scheme_and_never_clash(danang):
    codes = [ward_agency_code(danang.agency_code, danang.admin_code, code) for code, _ in wards_of(48)]
    assert codes[0] == "000.01.01.H15" and codes[-1] == "000.01.94.H15"  # 94 wards
    hcm = [ward_agency_code("000.00.01.H29", 79, code) for code, _ in wards_of(79)]  # 168 wards
    assert (hcm[98], hcm[99], hcm[167]) == ("000.01.99.H29", "000.02.00.H29", "000.02.68.H29")
    assert len(set(hcm)) == len(hcm)
    assert len(set(codes)) == len(codes)
    assert danang.agency_code not in codes and all(not c.startswith("000.00.") for c in codes)


# --- concurrent intake at four points ------------------------------------------------------------

THREADS_PER_POINT, PER_THREAD = 2, 8


@pytest.fixture
def four_points(django_db_setup, django_db_blocker):
    """The centre and three wards of Đà Nẵng, each with a counter officer, committed for other connections."""
    from provinces.models import Province

    with django_db_blocker.unblock():
        danang = Province.objects.get(slug="danang")
        with tenant_context(danang):
            points = [make_point("TT-CONC", "Trung tâm thử", agency_code=danang.agency_code, kind="province_centre")]
            points += [ward_point(danang, code, name) for code, name in WARDS]
            officers = [
                OfficerFactory(role="reception", department=point, user__username=f"song.song.{i}")
                for i, point in enumerate(points)
            ]
            procedure = ProcedureFactory(code="9.999998", department=points[0])
        connection.set_schema_to_public()
        yield danang, officers, procedure
        with tenant_context(danang), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # the timeline's delete trigger
            ids = list(Dossier.objects.filter(procedure=procedure).values_list("id", flat=True))
            Notification.objects.filter(dossier_id__in=ids).delete()
            DossierEvent.objects.filter(dossier_id__in=ids)._raw_delete(connection.alias)
            DossierComponent.objects.filter(dossier_id__in=ids).delete()
            Dossier.objects.filter(id__in=ids).delete()
            Procedure.objects.filter(pk=procedure.pk).delete()
            for officer in officers:
                officer.user.delete()
            Department.objects.filter(pk__in=[p.pk for p in points]).delete()
            DossierCounter.objects.all().delete()
        connection.set_schema_to_public()


def test_concurrent_intake_at_four_points_gives_each_its_agency_code_and_own_sequence(four_points, django_db_blocker):
    danang, officers, procedure = four_points
    threads_total = len(officers) * THREADS_PER_POINT
    barrier = threading.Barrier(threads_total)
    results, errors = [], []

    def counter(officer, n):
        try:
            connection.set_tenant(danang)
            barrier.wait(timeout=30)
            for i in range(PER_THREAD):
                dossier = services.receive_dossier(
                    officer=officer,
                    procedure=procedure,
                    applicant=services.Applicant(f"Người nộp {n}-{i}"),
                    components=all_components(procedure),
                )
                results.append((officer.department.agency_code, officer.department_id, dossier.code))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with django_db_blocker.unblock():
        threads = [
            threading.Thread(target=counter, args=(officer, f"{i}.{t}"))
            for i, officer in enumerate(officers)
            for t in range(THREADS_PER_POINT)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)

        assert errors == []
        codes = [code for _agency, _point, code in results]
        assert len(codes) == threads_total * PER_THREAD
        assert len(set(codes)) == len(codes)
        day = timezone.localdate().strftime("%y%m%d")
        for agency, _point, code in results:
            assert code.startswith(f"{agency}-{day}-")
        for officer in officers:
            agency = officer.department.agency_code
            sequences = sorted(int(c.rsplit("-", 1)[1]) for a, _p, c in results if a == agency)
            assert sequences == list(range(1, THREADS_PER_POINT * PER_THREAD + 1))  # its own, from 1, no gap
        with tenant_context(danang):
            stored = dict(Dossier.objects.filter(code__in=codes).values_list("code", "reception_point_id"))
        assert stored == {code: point for _agency, point, code in results}
        connection.set_schema_to_public()


# --- where a procedure may be received -----------------------------------------------------------


@pytest.fixture
def hai_chau(in_danang):
    return ward_point(in_danang, *WARDS[0])


@pytest.fixture
def thanh_khe(in_danang):
    return ward_point(in_danang, *WARDS[1])


@pytest.fixture
def hai_chau_officer(hai_chau):
    return OfficerFactory(role="reception", department=hai_chau, user__username="motcua.haichau")


@pytest.fixture
def thanh_khe_officer(thanh_khe):
    return OfficerFactory(role="reception", department=thanh_khe, user__username="motcua.thanhkhe")


def test_counter_intake_takes_the_officers_point_and_its_agency_code(hai_chau_officer, hai_chau):
    dossier = receive(hai_chau_officer)
    assert dossier.reception_point == hai_chau
    assert dossier.code.startswith(hai_chau.agency_code + "-")
    assert dossier.current_department == hai_chau


def test_intake_of_a_procedure_at_a_point_it_is_not_received_at_is_refused_and_writes_nothing(
    hai_chau_officer, thanh_khe, reception
):
    procedure = ProcedureFactory()
    procedure.reception_points.set([thanh_khe, reception.department])
    before = (Dossier.objects.count(), DossierEvent.objects.count(), list(DossierCounter.objects.values()))

    with pytest.raises(services.InvalidInput) as refused:
        receive(hai_chau_officer, procedure)

    assert "không được tiếp nhận tại “Bộ phận một cửa Phường Hải Châu”" in refused.value.message
    assert "Bộ phận một cửa Phường Thanh Khê" in refused.value.message  # where the citizen should go
    assert (Dossier.objects.count(), DossierEvent.objects.count(), list(DossierCounter.objects.values())) == before
    # At an allowed point the same procedure is received.
    assert receive(reception, procedure).reception_point == reception.department


def test_a_closed_point_cannot_receive(hai_chau_officer, hai_chau):
    hai_chau.is_active = False
    hai_chau.save()
    hai_chau_officer.department.refresh_from_db()
    with pytest.raises(services.InvalidInput, match="không phải là điểm tiếp nhận đang hoạt động"):
        receive(hai_chau_officer)
    assert not Dossier.objects.exists()


def test_an_online_registration_of_a_procedure_not_received_at_the_chosen_point_is_refused(hai_chau, thanh_khe):
    procedure = ProcedureFactory()
    procedure.reception_points.set([thanh_khe])
    with pytest.raises(services.InvalidInput, match="không được tiếp nhận tại"):
        services.register_online(
            procedure=procedure,
            applicant=services.Applicant("Trần Thị Bích"),
            components=all_components(procedure),
            reception_point=hai_chau.pk,
        )
    assert not Dossier.objects.exists()


# --- results returned where the dossier was received ------------------------------------------


def _to_result_ready(dossier, holder, leader):
    dossier = services.hand_over(dossier, holder, to_department=leader.department, to_officer=leader)
    return services.mark_result_ready(dossier, leader, result="Giấy khai sinh số 12/2026")


def test_a_ward_dossier_handled_by_a_provincial_department_comes_back_to_the_ward_for_return(
    hai_chau_officer, hai_chau, reception, leader
):
    dossier = _to_result_ready(receive(hai_chau_officer), hai_chau_officer, leader)
    assert dossier.status == Status.RESULT_READY and dossier.reception_point == hai_chau

    # The centre's counter officer may not hand it out: it was received at Hải Châu.
    with pytest.raises(services.ActionForbidden) as refused:
        services.return_result(dossier, reception)
    assert "được tiếp nhận tại “Bộ phận một cửa Phường Hải Châu”" in refused.value.message
    assert "chỉ bộ phận một cửa của điểm đó" in refused.value.message
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY
    # Nor is it offered to them (the admin and the API offer what the table allows).
    from dossiers import workflow

    assert "return_result" not in [a.key for a in workflow.actions_for(reception, dossier)]
    assert "return_result" in [a.key for a in workflow.actions_for(hai_chau_officer, dossier)]

    # Worklists: waiting at Hải Châu's counter, not at the centre's.
    assert dossier in Dossier.objects.filter(selectors.worklist_filter("result_ready", hai_chau_officer.user))
    assert dossier not in Dossier.objects.filter(selectors.worklist_filter("result_ready", reception.user))
    assert selectors.worklist_counts(hai_chau_officer.user, keys=["result_ready"]) == {"result_ready": 1}
    assert selectors.worklist_counts(reception.user, keys=["result_ready"]) == {"result_ready": 0}

    returned = services.return_result(dossier, hai_chau_officer)
    assert returned.status == Status.RETURNED


def test_the_api_refuses_a_counter_officer_of_another_point_with_403(hai_chau_officer, reception, leader):
    from rest_framework.authtoken.models import Token

    dossier = _to_result_ready(receive(hai_chau_officer), hai_chau_officer, leader)
    token, _ = Token.objects.get_or_create(user=reception.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    response = client.post(
        f"/api/v1/dossiers/{dossier.pk}/actions/return_result/",
        json.dumps({"version": dossier.version}),
        "application/json",
    )
    assert response.status_code == 403, response.content
    assert "Phường Hải Châu" in response.json()["error"]["message"]


# --- the citizen's choice of point online --------------------------------------------------------


def _registration(procedure, REMOTE_ADDR="127.0.0.1", **extra):
    body = {
        "procedure": procedure.code,
        "applicant": {"name": "Lê Minh Châu", "phone": "0905123456"},
        "components": [{"name": c.name, "count": 1} for c in procedure.components.all()],
    }
    body.update(extra)
    return Client(REMOTE_ADDR=REMOTE_ADDR, **HOST).post("/api/v1/registrations/", json.dumps(body), "application/json")


def test_online_registration_at_a_chosen_ward_waits_at_that_wards_counter(
    hai_chau, hai_chau_officer, reception, settings
):
    settings.REGISTER_RATE_PER_ADDRESS = "100/60"
    procedure = ProcedureFactory()
    response = _registration(procedure, reception_point=hai_chau.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"].startswith(hai_chau.agency_code + "-")
    assert body["reception_point"]["name"] == "Bộ phận một cửa Phường Hải Châu"
    dossier = Dossier.objects.get(code=body["code"])
    assert (dossier.reception_point, dossier.status, dossier.channel) == (hai_chau, Status.REGISTERED, Channel.ONLINE)
    assert selectors.worklist_counts(hai_chau_officer.user, keys=["registered"]) == {"registered": 1}
    assert selectors.worklist_counts(reception.user, keys=["registered"]) == {"registered": 0}
    # Only Hải Châu's counter may accept it.
    with pytest.raises(services.ActionForbidden, match="Phường Hải Châu"):
        services.accept(dossier, reception)
    accepted = services.accept(dossier, hai_chau_officer)
    assert accepted.current_department == hai_chau


def test_online_registration_without_a_choice_goes_to_the_province_centre(reception, settings):
    settings.REGISTER_RATE_PER_ADDRESS = "100/60"
    centre = reception.department
    centre.point_kind, centre.agency_code = PointKind.PROVINCE_CENTRE, "000.00.01.H15"
    centre.save()
    response = _registration(ProcedureFactory())
    assert response.status_code == 201, response.content
    assert Dossier.objects.get(code=response.json()["code"]).reception_point == centre
    assert province_centre() == centre


def test_the_points_endpoint_lists_only_active_points_of_the_province(hai_chau, thanh_khe, other_department):
    thanh_khe.is_active = False
    thanh_khe.save()
    response = Client(**HOST).get("/api/v1/points/")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["Bộ phận một cửa Phường Hải Châu"]


@pytest.fixture
def forged_ids(hai_chau, thanh_khe, other_department, camau):
    """Ids the citizen may not choose: another province's point (no such row here), a closed point, a
    processing department, and garbage."""
    thanh_khe.is_active = False
    thanh_khe.save()
    danang_max = Department.objects.order_by("-pk").first().pk
    with tenant_context(camau), connection.cursor() as cursor:
        # Cà Mau's next id lies beyond every id of Đà Nẵng's departments: the id exists only there.
        cursor.execute("SELECT setval(pg_get_serial_sequence('offices_department', 'id'), %s)", [danang_max + 100])
        beyond = Department.objects.create(code="CM-X", name="Một cửa Cà Mau", is_reception=True).pk
    assert not Department.objects.filter(pk=beyond).exists()
    return {
        "another province's point": (beyond, "Không có điểm tiếp nhận này trong tỉnh"),
        "a closed point": (thanh_khe.pk, "đã ngừng hoạt động"),
        "a processing department": (other_department.pk, "không phải là điểm tiếp nhận hồ sơ"),
        "garbage": ("1 OR 1=1", "Không có điểm tiếp nhận này trong tỉnh"),
        "negative": (-1, "Không có điểm tiếp nhận này trong tỉnh"),
        "beyond an integer": ("99999999999999999999", "Không có điểm tiếp nhận này trong tỉnh"),
        "a list": ([hai_chau.pk], ""),
    }


def test_a_forged_point_in_the_registration_api_is_refused_with_400_and_nothing_is_written(forged_ids, settings):
    settings.REGISTER_RATE_PER_ADDRESS = "100/60"
    procedure = ProcedureFactory()
    before = (Dossier.objects.count(), list(DossierCounter.objects.values()))
    for label, (point_id, message) in forged_ids.items():
        response = _registration(procedure, reception_point=point_id)
        assert response.status_code == 400, (label, response.content)
        assert message in response.json()["error"]["message"], label
    assert (Dossier.objects.count(), list(DossierCounter.objects.values())) == before


def test_registrations_are_rate_limited_per_address(settings, hai_chau):
    settings.REGISTER_RATE_PER_ADDRESS = "2/3600"
    procedure = ProcedureFactory()
    assert [_registration(procedure).status_code for _ in range(3)] == [201, 201, 429]
    assert _registration(procedure, REMOTE_ADDR="10.0.0.9").status_code == 201  # another address


# --- the department's validation (admin) ----------------------------------------------------------


def test_a_point_with_a_bad_agency_code_or_a_ward_of_another_province_is_refused_in_vietnamese(in_danang):
    point = Department(code="MC-X", name="Điểm sai", is_reception=True, point_kind=PointKind.WARD)
    point.agency_code, point.ward_code = "H15.000.01", "25747"  # Thủ Dầu Một: Hồ Chí Minh City's
    with pytest.raises(ValidationError) as refused:
        point.full_clean()
    errors = refused.value.message_dict
    assert "không đúng dạng XXX.YY.ZZ.Hnn" in errors["agency_code"][0]
    assert "không thuộc Thành phố Đà Nẵng" in errors["ward_code"][0]

    processing = Department(code="SX", name="Sở X", point_kind=PointKind.WARD, ward_code="20242")
    with pytest.raises(ValidationError) as refused:
        processing.full_clean()
    assert "Chỉ bộ phận một cửa mới là điểm tiếp nhận" in refused.value.message_dict["point_kind"][0]


def test_an_agency_code_cannot_be_given_to_two_points(hai_chau):
    twin = Department(code="MC-2", name="Điểm trùng", is_reception=True, agency_code=hai_chau.agency_code)
    with pytest.raises(ValidationError) as refused:
        twin.full_clean()
    assert "đã được dùng cho “Bộ phận một cửa Phường Hải Châu”" in refused.value.message_dict["agency_code"][0]


def test_the_province_admin_lists_filters_and_edits_points(hai_chau, reception_desk):
    from conftest import otp_login

    admin = OfficerFactory(role="province_admin", department=reception_desk, user__username="quantri.points")
    client = Client()
    otp_login(client, admin.user)
    listing = client.get("/admin/offices/department/?point_kind__exact=ward", **HOST)
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Bộ phận một cửa Phường Hải Châu" in page and hai_chau.agency_code in page
    assert "Phường Hải Châu (20242)" in page
    assert "Trung tâm Phục vụ hành chính công" not in page  # filtered by kind

    # A ward of another province and a malformed agency code: the form says so, in Vietnamese.
    url = f"/admin/offices/department/{hai_chau.pk}/change/"
    data = {
        "code": hai_chau.code,
        "name": hai_chau.name,
        "short_name": "",
        "is_reception": "on",
        "is_active": "on",
        "point_kind": "ward",
        "agency_code": "000.1.06.H15",
        "ward_code": "25747",
        "address": hai_chau.address,
        "opening_hours": hai_chau.opening_hours,
    }
    response = client.post(url, data, **HOST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "không đúng dạng XXX.YY.ZZ.Hnn" in page
    assert "Mã phường, xã “25747” không thuộc Thành phố Đà Nẵng" in page
    hai_chau.refresh_from_db()
    assert (hai_chau.agency_code, hai_chau.ward_code) == ("000.01.06.H15", "20242")

    data.update(agency_code="000.01.07.H15", ward_code="20209", address="Số 1 Hùng Vương")
    assert client.post(url, data, **HOST).status_code == 302
    hai_chau.refresh_from_db()
    assert (hai_chau.agency_code, hai_chau.ward_code, hai_chau.address) == ("000.01.07.H15", "20209", "Số 1 Hùng Vương")


# --- backfill of old rows -------------------------------------------------------------------------


def test_the_backfill_gives_old_dossiers_their_receiving_officers_point_else_the_centre(
    hai_chau_officer, hai_chau, reception, leader
):
    backfill = importlib.import_module("dossiers.migrations.0015_backfill_reception_point").BACKFILL_SQL
    at_ward = receive(hai_chau_officer)
    at_centre = receive(reception)
    online = services.register_online(
        procedure=ProcedureFactory(), applicant=services.Applicant("Nguyễn Văn An"), components=[]
    )
    by_system = services.receive_dossier(
        officer=services.SYSTEM,
        procedure=online.procedure,
        applicant=services.Applicant("Võ Văn Khoa"),
        components=all_components(online.procedure),
    )
    reception.department.point_kind = PointKind.PROVINCE_CENTRE
    reception.department.save()
    Dossier.objects.update(reception_point=None)  # as before the migration

    with connection.cursor() as cursor:
        cursor.execute(backfill)
        cursor.execute(backfill)  # twice: nothing changes the second time

    points = dict(Dossier.objects.values_list("pk", "reception_point_id"))
    assert points == {
        at_ward.pk: hai_chau.pk,
        at_centre.pk: reception.department_id,
        online.pk: reception.department_id,  # no receiving officer: the centre
        by_system.pk: reception.department_id,
    }


def test_the_backfill_leaves_null_when_the_province_has_no_point_at_all(in_danang, ward):
    backfill = importlib.import_module("dossiers.migrations.0015_backfill_reception_point").BACKFILL_SQL
    procedure = ProcedureFactory(department=ward)
    dossier = Dossier.objects.create(code="000.00.01.H15-260101-0001", procedure=procedure, applicant_name="A")
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    dossier.refresh_from_db()
    assert dossier.reception_point_id is None


def test_the_existing_one_stop_shop_becomes_the_centre_with_the_provinces_agency_code(in_danang, reception_desk):
    from django.apps import apps

    migration = importlib.import_module("offices.migrations.0004_reception_points")
    second = Department.objects.create(code="TTHCC-2", name="Quầy phụ", is_reception=True)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.centre_of_existing_provinces(apps, editor)
    migration.centre_of_existing_provinces(apps, editor)  # a rerun changes nothing
    reception_desk.refresh_from_db()
    second.refresh_from_db()
    assert (reception_desk.point_kind, reception_desk.agency_code) == ("province_centre", "000.00.01.H15")
    assert (second.point_kind, second.agency_code) == ("province_centre", "")  # falls back to the province's


# --- import_wards ---------------------------------------------------------------------------------


def test_import_wards_creates_every_ward_once(in_danang, hai_chau, capsys):
    wards = wards_of(48)
    call_command("import_wards", "--province", "danang", "--dry-run")
    out = capsys.readouterr().out
    assert f"Sẽ tạo {len(wards) - 1} điểm tiếp nhận mới; 1 phường, xã đã có điểm" in out
    assert Department.objects.filter(point_kind=PointKind.WARD).count() == 1  # dry run: nothing written

    call_command("import_wards", "--province", "danang")
    assert f"Đã tạo {len(wards) - 1} điểm" in capsys.readouterr().out
    points = Department.objects.filter(point_kind=PointKind.WARD)
    assert points.count() == len(wards)
    assert sorted(points.values_list("ward_code", flat=True)) == sorted(code for code, _ in wards)
    assert len(set(points.values_list("agency_code", flat=True))) == len(wards)
    hai_chau.refresh_from_db()
    assert hai_chau.name == "Bộ phận một cửa Phường Hải Châu"  # the existing point is left as it was
    snapshot = list(points.order_by("pk").values())

    call_command("import_wards", "--province", "danang")
    assert "Đã tạo 0 điểm tiếp nhận mới" in capsys.readouterr().out
    assert list(Department.objects.filter(point_kind=PointKind.WARD).order_by("pk").values()) == snapshot


def test_import_wards_refuses_an_unknown_province(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Không có tỉnh “atlantis”"):
        call_command("import_wards", "--province", "atlantis")
