"""Officers' access to citizens' personal data is audited: each path that shows an applicant's ID
number, phone or address writes one row, a refused request writes none, and nobody edits the rows."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from conftest import otp_login
from dossiers.models import AccessKind, PersonalDataAccess
from dossiers.tests.factories import receive
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


def client_for(officer):
    client = Client(**HOST)
    otp_login(client, officer.user)
    return client


def rows():
    return list(PersonalDataAccess.objects.order_by("id").values_list("username", "kind", "dossier_id", "detail"))


def test_each_officer_path_to_personal_data_writes_one_row(officers, reception_desk):
    reception = officers["reception"]
    dossier = receive(reception)
    client = client_for(reception)
    assert client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk])).status_code == 200
    assert client.get(reverse("admin:dossiers_dossier_print", args=[dossier.pk, "receipt"])).status_code == 200
    register = {"point": reception_desk.pk, "start": "01/01/2026", "end": "31/12/2026", "format": "xlsx"}
    assert client.get(reverse("admin:dossiers_dossier_register"), register).status_code == 200
    token, _created = Token.objects.get_or_create(user=reception.user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    assert api.get(f"/api/v1/dossiers/{dossier.pk}/").json()["applicant_phone"] == "0905123456"
    assert rows() == [
        ("motcua.test", AccessKind.VIEW, dossier.pk, ""),
        ("motcua.test", AccessKind.PRINT, dossier.pk, "receipt"),
        (
            "motcua.test",
            AccessKind.REGISTER,
            None,
            f"point={reception_desk.pk}&start=01/01/2026&end=31/12/2026&format=xlsx",
        ),
        ("motcua.test", AccessKind.API, dossier.pk, ""),
    ]
    assert all(address for address in PersonalDataAccess.objects.values_list("address", flat=True))


def test_refused_requests_write_no_row(officers, other_department):
    dossier = receive(officers["reception"])
    outsider = OfficerFactory(role="specialist", department=other_department, user__username="ngoai.phong")
    client = client_for(outsider)  # another department: the dossier is not theirs to see
    assert client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk])).status_code in (302, 404)
    assert client.get(reverse("admin:dossiers_dossier_print", args=[dossier.pk, "receipt"])).status_code == 404
    token, _created = Token.objects.get_or_create(user=outsider.user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    assert api.get(f"/api/v1/dossiers/{dossier.pk}/").status_code == 404
    # A form that does not exist for this dossier shows nothing and records nothing.
    reception = client_for(officers["reception"])
    assert reception.get(reverse("admin:dossiers_dossier_print", args=[dossier.pk, "refusal"])).status_code == 404
    assert rows() == []


def test_the_audit_is_read_only_and_only_for_the_province_admin(officers):
    dossier = receive(officers["reception"])
    client_for(officers["reception"]).get(reverse("admin:dossiers_dossier_change", args=[dossier.pk]))
    row = PersonalDataAccess.objects.get()
    changelist = reverse("admin:dossiers_personaldataaccess_changelist")
    assert client_for(officers["reception"]).get(changelist).status_code == 403
    admin = OfficerFactory(role="province_admin", user__username="quantri.test")
    client = client_for(admin)
    page = client.get(changelist)
    assert page.status_code == 200 and dossier.code in page.content.decode()
    change = reverse("admin:dossiers_personaldataaccess_change", args=[row.pk])
    assert client.post(change, {"username": "ai.do", "kind": "view"}).status_code == 403
    delete = reverse("admin:dossiers_personaldataaccess_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert PersonalDataAccess.objects.get().username == "motcua.test"


def test_the_database_refuses_to_rewrite_or_delete_an_access_record(officers):
    from django.db import DatabaseError, transaction

    dossier = receive(officers["reception"])
    client_for(officers["reception"]).get(reverse("admin:dossiers_dossier_change", args=[dossier.pk]))
    row = PersonalDataAccess.objects.get()
    for attempt in (
        lambda: PersonalDataAccess.objects.filter(pk=row.pk).update(username="ai.do"),
        lambda: PersonalDataAccess.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert PersonalDataAccess.objects.get().username == "motcua.test"
