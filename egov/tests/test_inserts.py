"""CompiledInsert (egov/inserts.py): a new row written through a statement built once must be exactly
the row Django's own insert writes, with everything `save()` promises around it."""

import pytest
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Now
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from dossiers.models import Dossier, DossierComponent, DossierEvent
from dossiers.tests.factories import ProcedureFactory, receive
from egov import inserts
from egov.inserts import CompiledInsert, insert_rows
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _djangos(monkeypatch):
    monkeypatch.setattr(CompiledInsert, "_do_insert", lambda self, *args: models.Model._do_insert(self, *args))


def _row(model, pk, skip=()):
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in {"id", *skip}}


def _dossier(procedure, code):
    return Dossier(
        code=code,
        procedure=procedure,
        channel=2,
        status=2,
        applicant_name="Trần Thị Ánh",
        applicant_id_number="048090009999",
        applicant_phone="0905111222",
        applicant_address="3 Bạch Đằng",
        fee_amount=15000,
    )


def test_a_dossier_event_and_message_are_the_rows_djangos_insert_writes(reception, monkeypatch):
    procedure = ProcedureFactory()
    made = receive(reception, procedure)
    event = made.events.get()
    message = Notification.objects.get(event=event)
    at = event.created_at

    def write(n):
        dossier = _dossier(procedure, f"X-{n}")
        dossier.save()
        timeline = DossierEvent(
            dossier=dossier, action="receive", to_status=2, actor=reception, citizen_note="Ghi chú", created_at=at
        )
        timeline.save()
        outbox = Notification(
            dossier=dossier,
            event=timeline,
            kind=message.kind,
            text="Tin",
            tracking_id=f"t-{n}",
            deadline=message.deadline,
        )
        outbox.save()
        return dossier, timeline, outbox

    ours, our_event, our_message = write(1)
    _djangos(monkeypatch)
    theirs, their_event, their_message = write(2)

    # The primary key and every value the object holds after save, as Django's insert leaves them.
    for mine, django in ((ours, theirs), (our_event, their_event), (our_message, their_message)):
        assert isinstance(mine.pk, int) and mine.pk != django.pk
        assert type(mine.pk) is type(django.pk)
        assert mine._state.adding is False and django._state.adding is False
    # The stored rows: identical but for what identifies them (and auto_now_add, set by both).
    varying = {"code", "search_text", "lookup_token", "registered_at"}
    assert _row(Dossier, ours.pk, varying) == _row(Dossier, theirs.pk, varying)
    assert _row(Dossier, ours.pk)["search_text"] == "x-1 tran thi anh 048090009999"
    assert _row(Dossier, ours.pk)["registered_at"] == ours.registered_at  # auto_now_add, kept on the object
    assert _row(DossierEvent, our_event.pk, {"dossier_id"}) == _row(DossierEvent, their_event.pk, {"dossier_id"})
    skip = {"dossier_id", "event_id", "tracking_id", "created_at"}
    assert _row(Notification, our_message.pk, skip) == _row(Notification, their_message.pk, skip)


def test_save_signals_still_fire_and_the_statement_is_built_once_per_column_set(in_danang):
    procedure = ProcedureFactory()
    seen = []

    def record(sender, instance, created=None, **kwargs):
        seen.append((instance.code, created, instance.pk))

    pre_save.connect(record, sender=Dossier, dispatch_uid="test.pre")
    post_save.connect(record, sender=Dossier, dispatch_uid="test.post")
    try:
        first = _dossier(procedure, "S-1")
        first.save()
    finally:
        pre_save.disconnect(dispatch_uid="test.pre", sender=Dossier)
        post_save.disconnect(dispatch_uid="test.post", sender=Dossier)
    assert seen == [("S-1", None, None), ("S-1", True, first.pk)]

    built = dict(inserts._statements)
    with CaptureQueriesContext(connection) as queries:
        _dossier(procedure, "S-2").save()
    assert inserts._statements == built  # the same statement, not a new one
    assert len(queries) == 1 and queries[0]["sql"].startswith('INSERT INTO "dossiers_dossier"')


def test_an_expression_as_a_value_goes_through_djangos_insert(in_danang):
    procedure = ProcedureFactory()
    dossier = _dossier(procedure, "E-1")
    dossier.applicant_address = Value("Địa chỉ từ biểu thức")
    dossier.accepted_at = Now()
    dossier.save()
    row = Dossier.objects.get(pk=dossier.pk)
    assert row.applicant_address == "Địa chỉ từ biểu thức" and row.accepted_at is not None


def test_a_refused_insert_raises_and_leaves_nothing(in_danang):
    procedure = ProcedureFactory()
    _dossier(procedure, "D-1").save()
    before = Dossier.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        _dossier(procedure, "D-1").save()  # the code is unique
    assert Dossier.objects.count() == before
    event = DossierEvent(dossier=Dossier.objects.get(code="D-1"), action="receive", to_status=2, created_at=Now())
    event.save()
    event_pk = event.pk
    with pytest.raises(Exception, match="không được sửa"):
        event.save()  # the timeline is append-only: the model's own save() still runs first
    assert DossierEvent.objects.filter(pk=event_pk).count() == 1


# --- insert_rows: many rows in one statement of the same text for any number ----------------------


def _papers(dossier, names, **extra):
    return [
        DossierComponent(dossier=dossier, name=name, kind="main", count=n + 1, **extra) for n, name in enumerate(names)
    ]


def _component_rows(dossier):
    return [
        {k: v for k, v in row.items() if k != "id"}
        for row in DossierComponent.objects.filter(dossier=dossier).order_by("id").values()
    ]


def test_many_rows_are_the_rows_bulk_create_writes(in_danang):
    procedure = ProcedureFactory()
    ours, theirs = _dossier(procedure, "M-1"), _dossier(procedure, "M-2")
    ours.save()
    theirs.save()
    names = ["Tờ khai (Mẫu 01)", "Bản sao CCCD; có chứng thực", "Giấy tờ 'khác' -- \\ \"x\""]
    insert_rows(DossierComponent, _papers(ours, names))
    DossierComponent.objects.bulk_create(_papers(theirs, names))
    mine = _component_rows(ours)
    assert [r["name"] for r in mine] == names  # in the order given, every character as written
    assert [r["count"] for r in mine] == [1, 2, 3] and {r["added_by_supplement"] for r in mine} == {False}
    assert [{**r, "dossier_id": 0} for r in mine] == [{**r, "dossier_id": 0} for r in _component_rows(theirs)]
    insert_rows(DossierComponent, _papers(ours, ["Bổ sung"], added_by_supplement=True))
    assert _component_rows(ours)[-1]["added_by_supplement"] is True
    insert_rows(DossierComponent, [])  # nothing to write: no statement


def test_one_statement_for_any_number_of_rows_prepared_once(in_danang):
    procedure = ProcedureFactory()
    dossier = _dossier(procedure, "P-1")
    dossier.save()

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%dossiers_dossiercomponent%"]
            )
            return cursor.fetchone()[0]

    insert_rows(DossierComponent, _papers(dossier, ["a"]))
    before, built = prepared(), dict(inserts._many_statements)
    for n in (1, 3, 7):
        with CaptureQueriesContext(connection) as queries:
            insert_rows(DossierComponent, _papers(dossier, [f"giấy {n}-{i}" for i in range(n)]))
        assert len(queries) == 1 and queries[0]["sql"].startswith('INSERT INTO "dossiers_dossiercomponent"')
    assert inserts._many_statements == built and prepared() == before  # the same statement every time
    assert DossierComponent.objects.filter(dossier=dossier).count() == 1 + 1 + 3 + 7


def test_a_refused_row_refuses_them_all(in_danang):
    procedure = ProcedureFactory()
    dossier = _dossier(procedure, "R-1")
    dossier.save()
    papers = _papers(dossier, ["một", "hai", "ba"])
    papers[2].count = -1  # a positive small integer: the database's check refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(DossierComponent, papers)
    papers[2].count = 1
    papers[2].name = "x" * 501  # longer than the column
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(DossierComponent, papers)
    assert not DossierComponent.objects.filter(dossier=dossier).exists()


def test_an_expression_among_the_rows_goes_through_bulk_create(in_danang):
    procedure = ProcedureFactory()
    dossier = _dossier(procedure, "X-9")
    dossier.save()
    papers = _papers(dossier, ["thường", "?"])
    papers[1].name = Concat(Value("từ "), Value("biểu thức"))
    insert_rows(DossierComponent, papers)
    assert [r["name"] for r in _component_rows(dossier)] == ["thường", "từ biểu thức"]


def test_a_prepared_insert_writes_in_the_province_of_the_moment(danang, camau):
    """Prepared once on a connection, run again after the province changed, as the first statement in
    the new province: the rows land in the province the request is in (Django's first steps set the
    search path; PostgreSQL parses a prepared statement again when it changed), never in the one
    the statement was prepared in."""
    provinces = (danang, camau, danang, camau)
    procedures, first = {}, {}
    for province in (danang, camau):
        with tenant_context(province):
            procedures[province.schema_name] = ProcedureFactory()
    made = {}
    for n, province in enumerate(provinces):
        with tenant_context(province):
            dossier = _dossier(procedures[province.schema_name], f"T-{province.schema_name}-{n}")
            dossier.save()  # CompiledInsert: the first statement in this province
            first.setdefault(province.schema_name, dossier)
            made[dossier.code] = province.schema_name
    for province in provinces:
        with tenant_context(province):  # insert_rows: the first statement in this province
            insert_rows(DossierComponent, _papers(first[province.schema_name], [f"giấy của {province.schema_name}"]))
    with connection.cursor() as cursor:
        for schema in ("danang", "camau"):
            cursor.execute(f"SELECT code FROM {schema}.dossiers_dossier WHERE code LIKE 'T-%%'")  # noqa: S608
            assert sorted(code for (code,) in cursor.fetchall()) == sorted(c for c, s in made.items() if s == schema)
            cursor.execute(
                f"SELECT d.code, c.name FROM {schema}.dossiers_dossiercomponent c "  # noqa: S608 - fixed names
                f"JOIN {schema}.dossiers_dossier d ON c.dossier_id = d.id WHERE d.code LIKE 'T-%%'"
            )
            assert cursor.fetchall() == [(first[schema].code, f"giấy của {schema}")] * 2
