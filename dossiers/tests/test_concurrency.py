"""The day's counter: two counters accepting at the same second never get the same dossier code, and
one intake still in its transaction never holds up the next (the counter row is one per province
and day: holding it for a whole intake would serialise every intake of the province)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from dossiers import services
from dossiers.events import dossier_event
from dossiers.models import Dossier, DossierComponent, DossierCounter, DossierEvent, Procedure
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from notifications.models import Notification
from offices.models import Department
from offices.tests.factories import OfficerFactory

THREADS, PER_THREAD = 8, 10


@pytest.fixture
def committed_counter_setup(django_db_setup, django_db_blocker):
    """An officer and a procedure that other connections can see; everything removed afterwards."""
    from provinces.models import Province

    with django_db_blocker.unblock():
        danang = Province.objects.get(slug="danang")
        with tenant_context(danang):
            department = Department.objects.create(code="CONC-TEST", name="Quầy thử song song", is_reception=True)
            officer = OfficerFactory(role="reception", department=department, user__username="song.song")
            procedure = ProcedureFactory(code="9.999999", department=department)
        connection.set_schema_to_public()
        yield danang, officer, procedure
        with tenant_context(danang), transaction.atomic(), connection.cursor() as cursor:
            # The timeline refuses deletes by trigger; a test's own cleanup switches triggers off locally.
            cursor.execute("SET LOCAL session_replication_role = replica")
            ids = list(Dossier.objects.filter(procedure=procedure).values_list("id", flat=True))
            Notification.objects.filter(dossier_id__in=ids).delete()  # the outbox rows of the receipts
            DossierEvent.objects.filter(dossier_id__in=ids)._raw_delete(connection.alias)
            DossierComponent.objects.filter(dossier_id__in=ids).delete()
            Dossier.objects.filter(id__in=ids).delete()
            Procedure.objects.filter(pk=procedure.pk).delete()
            officer.user.delete()
            department.delete()
            DossierCounter.objects.all().delete()
        connection.set_schema_to_public()


def test_concurrent_intake_never_duplicates_a_code(committed_counter_setup, django_db_blocker):
    danang, officer, procedure = committed_counter_setup
    barrier = threading.Barrier(THREADS)
    codes, errors = [], []

    def counter(n):
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
                codes.append(dossier.code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=counter, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    assert len(codes) == THREADS * PER_THREAD
    assert len(set(codes)) == len(codes)
    prefixes = {code.rsplit("-", 1)[0] for code in codes}
    assert len(prefixes) == 1 and prefixes.pop().startswith("000.00.01.H15-")
    sequences = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert sequences == list(range(1, THREADS * PER_THREAD + 1))  # no gaps either


def _intake(officer, procedure, name):
    return services.receive_dossier(
        officer=officer,
        procedure=procedure,
        applicant=services.Applicant(name, phone="0905123456"),
        components=all_components(procedure),
    )


def _sequence(code):
    return int(code.rsplit("-", 1)[1])


def test_an_intake_still_in_its_transaction_does_not_hold_up_the_next(committed_counter_setup, django_db_blocker):
    """The first intake has its number and stays inside its transaction (writing its timeline and
    outbox rows, on a busy worker); a second intake at the same agency and day must complete."""
    danang, officer, procedure = committed_counter_setup
    numbered, release = threading.Event(), threading.Event()
    results = {}

    def hold_the_slow_intake(sender, event, dossier, **kwargs):
        if threading.current_thread().name == "slow":
            numbered.set()  # its number is taken, its dossier and event written, its transaction open
            release.wait(timeout=60)

    def run(name, lock_timeout=None):
        try:
            connection.set_tenant(danang)
            if lock_timeout:
                with connection.cursor() as cursor:  # waiting on a lock fails at once instead of blocking
                    cursor.execute(f"SET lock_timeout = '{lock_timeout}'")
            results[name] = _intake(officer, procedure, f"Người nộp {name}")
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[name] = exc
        finally:
            connection.close()

    dossier_event.connect(hold_the_slow_intake, weak=False, dispatch_uid="test.hold")
    try:
        with django_db_blocker.unblock():
            slow = threading.Thread(target=run, args=("slow",), name="slow")
            slow.start()
            assert numbered.wait(timeout=60)
            fast = threading.Thread(target=run, args=("fast", "3s"), name="fast")
            fast.start()
            fast.join(timeout=60)
            finished_while_the_first_was_open = not fast.is_alive() and slow.is_alive()
            release.set()
            slow.join(timeout=60)
            fast.join(timeout=60)
    finally:
        release.set()
        dossier_event.disconnect(dispatch_uid="test.hold")

    assert finished_while_the_first_was_open
    assert isinstance(results["fast"], Dossier), results["fast"]
    assert isinstance(results["slow"], Dossier), results["slow"]
    # The first took its number first; the second committed first, with the next number.
    assert _sequence(results["slow"].code) == 1 and _sequence(results["fast"].code) == 2


def test_an_intake_that_fails_after_taking_its_number_leaves_a_gap_and_nothing_else(
    committed_counter_setup, django_db_blocker
):
    """The promise of `next_dossier_code`: a number is never given twice; a failed intake's number
    stays unused (a gap), and nothing of that intake is written."""
    danang, officer, procedure = committed_counter_setup

    class Broken(Exception):
        pass

    def fail(sender, event, dossier, **kwargs):
        raise Broken

    with django_db_blocker.unblock(), tenant_context(danang):
        first = _intake(officer, procedure, "Người nộp một")
        dossier_event.connect(fail, weak=False, dispatch_uid="test.fail")
        try:
            with pytest.raises(Broken):
                _intake(officer, procedure, "Người nộp hỏng")
        finally:
            dossier_event.disconnect(dispatch_uid="test.fail")
        third = _intake(officer, procedure, "Người nộp ba")
        assert [_sequence(first.code), _sequence(third.code)] == [1, 3]
        assert not Dossier.objects.filter(applicant_name="Người nộp hỏng").exists()
        assert DossierEvent.objects.filter(dossier__procedure=procedure).count() == 2
        assert Notification.objects.filter(dossier__procedure=procedure).count() == 2
        assert DossierCounter.objects.get().last == 3
    connection.set_schema_to_public()


@pytest.mark.django_db
def test_inside_a_callers_transaction_a_rolled_back_intake_gives_its_number_back(in_danang, reception):
    """A command entering many records in one transaction takes the numbers in it: no gap on rollback."""
    procedure = ProcedureFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert receive(reception, procedure).code.endswith("-0001")
        raise RuntimeError
    assert not DossierCounter.objects.exists()
    assert receive(reception, procedure).code.endswith("-0001")


@pytest.mark.django_db
def test_the_counter_restarts_at_one_the_next_day(in_danang, reception):
    procedure = ProcedureFactory()
    today = [receive(reception, procedure).code for _ in range(3)]
    assert [_sequence(code) for code in today] == [1, 2, 3]
    tomorrow = timezone.localtime() + timedelta(days=1)
    with services.backdated(tomorrow):
        code = receive(reception, procedure).code
    assert code == f"000.00.01.H15-{tomorrow:%y%m%d}-0001"
    assert _sequence(receive(reception, procedure).code) == 4


@pytest.mark.django_db
def test_a_number_already_taken_is_skipped(in_danang, reception):
    first = receive(reception)
    DossierCounter.objects.all().delete()  # e.g. a counter restored from an old backup
    second = receive(reception)
    assert first.code.endswith("-0001") and second.code.endswith("-0002")
