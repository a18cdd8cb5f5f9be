"""Two officers reviewing the same file at the same moment, on two real connections: one wins, the other
is told its page is stale (issue 13.2). Committed data, removed afterwards (as dossiers/tests/test_concurrency.py)."""

import threading

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from dossiers import services as dossier_services
from dossiers.models import Dossier, DossierComponent, DossierCounter, DossierEvent, Procedure
from dossiers.tests.factories import ProcedureFactory
from notifications.models import Notification
from offices.models import Department
from offices.tests.factories import OfficerFactory
from supplements import services
from supplements.models import FileState, SupplementFile

from .images import png
from .test_review import send, supplement_requested


@pytest.fixture
def committed_review(django_db_setup, django_db_blocker, settings, tmp_path):
    """A dossier waiting for a supplement with one photo sent, visible to other connections; removed afterwards."""
    from provinces.models import Province

    settings.MEDIA_ROOT = str(tmp_path / "media")
    with django_db_blocker.unblock():
        danang = Province.objects.get(slug="danang")
        with tenant_context(danang):
            desk = Department.objects.create(code="REV-QUAY", name="Quầy thử xem xét", is_reception=True)
            ward = Department.objects.create(code="REV-PHUONG", name="Phường thử xem xét")
            reception = OfficerFactory(role="reception", department=desk, user__username="rev.motcua")
            specialist = OfficerFactory(role="specialist", department=ward, user__username="rev.chuyenvien")
            procedure = ProcedureFactory(code="9.999997", department=ward)
            dossier = supplement_requested(reception, specialist, procedure)
            photo = send(dossier, "Ảnh 4x6", png(), "anh.png")
        connection.set_schema_to_public()
        yield danang, reception, specialist, dossier, photo
        with tenant_context(danang), transaction.atomic(), connection.cursor() as cursor:
            # The timeline refuses deletes by trigger; a test's own cleanup switches triggers off locally.
            cursor.execute("SET LOCAL session_replication_role = replica")
            ids = list(Dossier.objects.filter(procedure=procedure).values_list("id", flat=True))
            SupplementFile.objects.filter(dossier_id__in=ids).delete()
            Notification.objects.filter(dossier_id__in=ids).delete()
            DossierEvent.objects.filter(dossier_id__in=ids)._raw_delete(connection.alias)
            DossierComponent.objects.filter(dossier_id__in=ids).delete()
            Dossier.objects.filter(id__in=ids).delete()
            Procedure.objects.filter(pk=procedure.pk).delete()
            reception.user.delete()
            specialist.user.delete()
            Department.objects.filter(pk__in=[desk.pk, ward.pk]).delete()
            DossierCounter.objects.all().delete()
        connection.set_schema_to_public()


def test_two_officers_reviewing_the_same_file_at_once_do_not_both_win(committed_review, django_db_blocker):
    """One accepts, the other refuses the same photo at the same moment, both from a page of the same version:
    the dossier row lock serves them one after the other and the second finds the file no longer waiting."""
    danang, reception, specialist, dossier, photo = committed_review
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(name, call):
        try:
            with tenant_context(danang):
                barrier.wait(timeout=10)
                call()
            outcomes[name] = "won"
        except dossier_services.StaleDossier:
            outcomes[name] = "stale"
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    version = dossier.version
    calls = {
        "accept": lambda: services.accept_files([photo], specialist, expected_version=version),
        "refuse": lambda: services.refuse_file(photo, reception, "Ảnh mờ", expected_version=version),
    }
    with django_db_blocker.unblock():
        threads = [threading.Thread(target=decide, args=item) for item in calls.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes.values()) == ["stale", "won"], outcomes
        with tenant_context(danang):
            photo.refresh_from_db()
            winner = "accept" if photo.state == FileState.ACCEPTED else "refuse"
            assert outcomes[winner] == "won"
            assert photo.state in (FileState.ACCEPTED, FileState.REFUSED)
            assert photo.reviewed_by == (specialist if winner == "accept" else reception)
        connection.set_schema_to_public()
