"""Two counters accepting at the same second never get the same dossier code."""

import threading

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from dossiers import services
from dossiers.models import Dossier, DossierComponent, DossierCounter, DossierEvent, Procedure
from dossiers.tests.factories import ProcedureFactory, all_components
from notifications.models import Notification
from offices.models import Department
from offices.tests.factories import OfficerFactory

THREADS, PER_THREAD = 6, 5


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


@pytest.mark.django_db
def test_a_number_already_taken_is_skipped(in_danang, reception):
    from dossiers.tests.factories import receive

    first = receive(reception)
    DossierCounter.objects.all().delete()  # e.g. a counter restored from an old backup
    second = receive(reception)
    assert first.code.endswith("-0001") and second.code.endswith("-0002")
