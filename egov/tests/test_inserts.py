"""CompiledInsert (egov/inserts.py): a new row written through a statement built once must be exactly
the row Django's own insert writes, with everything `save()` promises around it."""

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Value
from django.db.models.functions import Now
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from dossiers.models import Dossier, DossierEvent
from dossiers.tests.factories import ProcedureFactory, receive
from egov import inserts
from egov.inserts import CompiledInsert
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
