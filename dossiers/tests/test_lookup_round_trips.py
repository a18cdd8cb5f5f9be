"""A cold lookup is one round trip to PostgreSQL (issue 12), and still reads only its own province.

Django's `connection.cursor()` would wait for a health check (`SELECT 1`, `CONN_HEALTH_CHECKS`) and,
when the connection is not on the province's path yet, for django-tenants' `SET search_path` before
sending the statement: up to three round trips. The lookup sends the province's `SET search_path`
(when needed) and the statement together (a psycopg pipeline), without the health check; a
connection found dead by the statement itself is replaced and the statement sent again. These tests
use a connection of their own (autocommit, outside the test's transaction, testing/wire.py), as a web
process has, watch what crosses the wire (libpq's trace) and kill the connection for real.
"""

from types import SimpleNamespace

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from dossiers import lookup
from dossiers.tests.factories import receive
from testing.wire import new_request, record_sent, round_trips, wire
from testing.wire import own_connection as wire_own_connection

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
CODE = "000.00.14.H20-200703-0002"


@pytest.fixture
def sent(monkeypatch):
    return record_sent(monkeypatch)


@pytest.fixture
def own_connection(danang):
    with wire_own_connection(danang) as fresh:
        yield fresh


def test_a_cold_lookup_on_a_kept_connection_is_one_round_trip(own_connection, danang, camau):
    assert lookup._load(lookup_token="x" * 32) is None  # connects, prepares, sets Đà Nẵng's search_path
    # The next request is Đà Nẵng's again: the connection is on its path already, only the statement goes.
    new_request(own_connection, danang)
    assert not own_connection.health_check_done  # Django would send SELECT 1 before the next statement
    found, messages = wire(own_connection, lambda: lookup._load(lookup_token="y" * 32))
    assert found is None
    assert round_trips(messages) == 1, messages
    text = "\n".join(message for _, message in messages)
    assert "search_path" not in text and "SELECT 1" not in text
    assert own_connection.health_check_done  # the statement answered: no check later in the request
    # The next request is another province's: its search_path goes with the statement, still one trip.
    for province in (camau, danang):
        new_request(own_connection, province)
        _found, messages = wire(own_connection, lambda: lookup._load(code=CODE))
        expected = f'SET search_path = "{province.schema_name}","public"'
        assert round_trips(messages) == 1 and expected in messages[0][1], messages


def test_the_round_trips_are_counted_right(own_connection, camau):
    """The counter can fail: Django's own cursor, health check due, is two round trips on a connection
    already on the province's path, three when the province changes."""

    def django_way():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM dossiers_dossier LIMIT 1")

    django_way()  # connected
    new_request(own_connection, own_connection.tenant)
    _result, messages = wire(own_connection, django_way)
    assert round_trips(messages) == 2, messages
    new_request(own_connection, camau)
    _result, messages = wire(own_connection, django_way)
    assert round_trips(messages) == 3, messages


def test_a_connection_the_server_cut_is_replaced_and_the_lookup_answers(own_connection, danang, camau, sent):
    assert lookup._load(code=CODE) is None
    pid = own_connection.connection.info.backend_pid
    with psycopg.connect(own_connection.connection.info.dsn, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        # Wait on the condition itself: the backend is gone.
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            admin.execute("SELECT pg_sleep(0.01)")
    new_request(own_connection, danang)
    sent.clear()
    assert lookup._load(code=CODE) is None  # no error: answered on a new connection
    assert own_connection.connection.info.backend_pid != pid
    # The first try broke on the dead connection; the new one is set up by Django, then the province's
    # search_path and the statement.
    statement = sent[-1]
    assert "dossiers_dossier" in statement and sent[-2] == 'SET search_path = "danang","public"'
    assert any("set_config('TimeZone'" in s for s in sent[:-2])
    new_request(own_connection, camau)
    sent.clear()
    assert lookup._load(code=CODE) is None
    assert sent == ['SET search_path = "camau","public"', statement]


def test_a_failing_statement_on_a_live_connection_is_not_sent_twice(own_connection, danang, sent, monkeypatch):
    """Only a dead connection is retried: a statement that fails on a good one fails once."""
    assert lookup._load(lookup_token="x" * 32) is None
    failing = "SELECT 1/0 WHERE %(value)s::text <> %(tz)s::text"
    monkeypatch.setitem(lookup._STATEMENTS, "lookup_token", failing)
    new_request(own_connection, danang)
    sent.clear()
    with pytest.raises(Exception, match="division by zero"):
        lookup._load(lookup_token="x" * 32)
    assert sent.count(failing) == 1


def test_the_statement_goes_through_djangos_wrapper_exactly_when_something_needs_it(own_connection, danang):
    """On a web process the lookup's statement skips Django's cursor wrapper; whatever the wrapper is there
    for still sees or guards it: an execute wrapper (the schema-isolation test's recorder), the query
    log, a transaction already broken."""
    from django.db import transaction
    from django.db.backends.utils import CursorWrapper
    from django.db.transaction import TransactionManagementError
    from django.test.utils import CaptureQueriesContext

    from egov.compiled import bare_prepared_cursor

    assert lookup._load(lookup_token="x" * 32) is None  # connected, on Đà Nẵng's path
    with bare_prepared_cursor(own_connection) as cursor:
        assert isinstance(cursor, psycopg.Cursor) and not isinstance(cursor, CursorWrapper)
    seen = []

    def recorder(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with own_connection.execute_wrapper(recorder):
        assert lookup._load(lookup_token="y" * 32) is None
    assert len(seen) == 1 and "lookup_token = %(value)s" in seen[0]
    with CaptureQueriesContext(own_connection) as queries:
        assert lookup._load(lookup_token="z" * 32) is None
    assert any("z" * 32 in q["sql"] for q in queries)  # logged with its value
    with transaction.atomic(using=own_connection.alias):
        own_connection.needs_rollback = True  # as after an error caught inside the block
        with pytest.raises(TransactionManagementError):
            lookup._load(lookup_token="w" * 32)
        own_connection.needs_rollback = False


# --- in the test's transaction: real dossiers ---------------------------------------------------------


def test_the_province_of_the_request_is_read_whatever_search_path_the_connection_had(officers, danang, camau):
    dossier = receive(officers["reception"], phone="0905123456")
    for _ in range(2):
        with tenant_context(camau):
            assert lookup._load(lookup_token=dossier.lookup_token) is None
            assert lookup._load(code=dossier.code) is None
            assert lookup._load(pk=dossier.pk) is None
        with tenant_context(danang):
            assert lookup._load(lookup_token=dossier.lookup_token).code == dossier.code
            assert lookup._load(code=dossier.code).id == dossier.id


# --- the caller's address, remembered per header value -------------------------------------------------


def _ipware_address(meta, proxies):
    """`client_address` as it was before it remembered its answers: django-ipware on every request."""
    from ipware import get_client_ip

    from egov.ratelimit import address_identity

    request = SimpleNamespace(META=meta)
    address = None
    if proxies > 0:
        address, _ = get_client_ip(
            request, proxy_count=proxies - 1, request_header_order=["HTTP_X_FORWARDED_FOR"], strict=False
        )
    if address is None:
        address, _ = get_client_ip(request, proxy_count=0, request_header_order=["REMOTE_ADDR"])
    return address_identity(address)


METAS = [
    {"REMOTE_ADDR": "203.0.113.7"},
    {"REMOTE_ADDR": "2001:db8:1:2::5"},
    {"REMOTE_ADDR": "::ffff:198.51.100.4"},
    {"REMOTE_ADDR": "not an address"},
    {"REMOTE_ADDR": ""},
    {},
    {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7"},
    {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.8"},
    {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "garbage, 2001:db8::1"},
    {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": ""},
    {"REMOTE_ADDR": "10.0.0.3", "HTTP_X_FORWARDED_FOR": "192.0.2.1, 192.0.2.2, 192.0.2.3"},
]


@pytest.mark.parametrize("proxies", [0, 1, 2])
def test_the_remembered_address_is_the_one_ipware_finds(settings, proxies):
    from egov.ratelimit import client_address

    settings.TRUSTED_PROXY_COUNT = proxies
    for _ in range(2):  # computed, then remembered
        for meta in METAS:
            assert client_address(SimpleNamespace(META=meta)) == _ipware_address(meta, proxies), meta


def test_unknown_tokens_on_the_qr_page_are_still_counted_per_address(officers, settings):
    settings.LOOKUP_RATE_PER_ADDRESS = "3/60"
    dossier = receive(officers["reception"], phone="0905123456")
    sweeper = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(3):
        assert sweeper.get(f"/tra-cuu/{'A' * 31}{n}/", **HOST).status_code == 404
    assert sweeper.get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).status_code == 429
    same_64 = Client(REMOTE_ADDR="2001:db8:1:2::1")
    for n in range(3):
        assert same_64.get(f"/tra-cuu/{'B' * 31}{n}/", **HOST).status_code == 404
    assert Client(REMOTE_ADDR="2001:db8:1:2::ffff").get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).status_code == 429
    response = Client(REMOTE_ADDR="203.0.113.8").get(f"/tra-cuu/{dossier.lookup_token}/", **HOST)
    assert response.status_code == 200 and dossier.code in response.content.decode()
