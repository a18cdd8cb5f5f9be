"""Schema-driven fuzzing (schemathesis) of the public lookup API: no input makes a server error."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from dossiers.tests.factories import receive

RAW_SCHEMA = SchemaGenerator(urlconf="egov.urls_tenant").get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
APP = get_wsgi_application()


@pytest.fixture
def real_dossier(reception):
    return receive(reception)


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: the WSGI app must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.include(tag="public").parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_public_lookup_api_never_answers_with_a_server_error(case, real_dossier, keep_test_connection):
    response = case.call(app=APP, headers={"Host": "danang.localhost"})
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert body["error"]["code"] and body["error"]["message"]
    else:
        assert "applicant_phone" not in body and "0905123456" not in response.text
