"""FieldsPerThread (dossiers/api.py): the intake body validated through fields built once per thread
must give exactly what DRF's own fields give (data and errors, in each language), keep nothing of a
request, and never share fields between two threads."""

import threading

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import tenant_context
from rest_framework import serializers

from dossiers.api import IntakeRequestSerializer
from dossiers.models import Procedure
from dossiers.tests.factories import ProcedureFactory

# The same declared fields and `validate`, with DRF's fields built for every instance.
DrfIntake = type(
    "DrfIntake",
    (serializers.Serializer,),
    {**IntakeRequestSerializer._declared_fields, "validate": IntakeRequestSerializer.validate},
)


def _bodies(procedure):
    papers = [{"name": c.name, "count": 1} for c in procedure.components.all()]
    good = {
        "procedure": procedure.code,
        "applicant": {"name": "Lê Thị Hoa", "phone": "0905123456"},
        "components": papers,
    }
    return [
        good,
        {**good, "channel": 2, "citizen_note": "Nộp thay", "applicant": {**good["applicant"], "email": "a@b.vn"}},
        {},
        {**good, "procedure": "KHONG-CO"},
        {**good, "procedure": ["x"]},
        {**good, "applicant": {"name": ""}},
        {**good, "applicant": {"name": "A", "email": "không phải thư", "phone": "1" * 30}},
        {**good, "applicant": "Lê Thị Hoa"},
        {**good, "components": [{"name": "Giấy lạ", "count": 1}]},
        {**good, "components": [{"name": papers[0]["name"], "count": 99}, {"count": "hai"}]},
        {**good, "components": "tờ khai"},
        {**good, "channel": 99},
        {**good, "procedure": "A\x00B"},
    ]


def _outcome(cls, body):
    serializer = cls(data=body)
    if serializer.is_valid():
        data = dict(serializer.validated_data)
        return True, {**data, "procedure": data["procedure"].pk}
    return False, serializer.errors


@pytest.mark.django_db
def test_the_same_data_and_errors_as_drfs_fields_in_each_language(in_danang):
    procedure = ProcedureFactory()
    for language in ("vi", "en", "vi"):  # the fields are built once, in the first language
        with translation.override(language):
            for body in _bodies(procedure):
                ours, drfs = _outcome(IntakeRequestSerializer, body), _outcome(DrfIntake, body)
                assert ours == drfs, body
    with translation.override("en"):
        assert _outcome(IntakeRequestSerializer, {})[1]["applicant"] == ["This field is required."]
    with translation.override("vi"):
        assert _outcome(IntakeRequestSerializer, {})[1]["applicant"] == ["Trường này là bắt buộc."]


@pytest.mark.django_db
def test_one_set_of_fields_per_thread_holding_no_request(in_danang):
    procedure = ProcedureFactory()
    body = _bodies(procedure)[0]
    first, second = IntakeRequestSerializer(data=body), IntakeRequestSerializer(data=body)
    assert first.is_valid() and second.is_valid()
    assert first.fields is second.fields  # built once in this thread
    assert first.validated_data is not second.validated_data
    shared = first.fields
    for field in [*shared.values(), *shared["applicant"].fields.values(), shared["components"].child]:
        root = field.root
        assert root is not first and root is not second
        assert not hasattr(root, "initial_data") and not hasattr(root, "_validated_data")  # no request's data
    # Given a context, a serializer builds its own fields, as DRF does (a field may read the context).
    assert IntakeRequestSerializer(data=body, context={"request": None}).fields is not shared

    seen = {}

    def other_thread():
        from django.db import connection

        try:
            serializer = IntakeRequestSerializer(data={})
            seen["valid"] = serializer.is_valid()
            seen["fields"] = serializer.fields
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=60)
    assert seen["valid"] is False
    assert seen["fields"] is not shared  # its own fields, built in its thread
    assert set(seen["fields"]) == set(shared)


@pytest.fixture
def committed_procedure(django_db_setup, django_db_blocker):
    """A procedure other connections (the threads') can see; removed afterwards."""
    from provinces.models import Province

    with django_db_blocker.unblock():
        danang = Province.objects.get(slug="danang")
        with tenant_context(danang):
            procedure = ProcedureFactory(code="9.999998")
        connection.set_schema_to_public()
        yield danang, procedure
        with tenant_context(danang):
            Procedure.objects.filter(pk=procedure.pk).delete()
        connection.set_schema_to_public()


def test_threads_validating_at_once_each_get_their_own_answers(committed_procedure, django_db_blocker):
    """Six threads, each validating other bodies at the same moment, each get what DRF's fields give."""
    danang, procedure = committed_procedure
    with django_db_blocker.unblock(), tenant_context(danang):
        bodies = _bodies(procedure)
        expected = [_outcome(DrfIntake, body) for body in bodies]
    assert sum(valid for valid, _ in expected) == 2 and len(bodies) > 10
    start, outcomes, errors = threading.Barrier(6), [], []

    def validate(offset):
        try:
            connection.set_tenant(danang)
            start.wait(timeout=30)
            for round_ in range(40):
                n = (offset + round_) % len(bodies)
                outcomes.append((n, _outcome(IntakeRequestSerializer, bodies[n])))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=validate, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    assert len(outcomes) == 6 * 40
    assert [outcome for n, outcome in outcomes if outcome != expected[n]] == []
