"""Test session setup: the test database gets the public tenant and the demo provinces once.

Creating a schema runs every tenant migration, so it happens once per session (and not at all
with --reuse-db, where the schemas already exist). Tests then run inside a transaction in the
schema they choose, which is rolled back afterwards.
"""

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from provinces.demo import DEMO_PROVINCES
from provinces.services import create_province, ensure_public_tenant

# Two provinces are enough for every isolation test; seed_demo's test creates the other two.
TEST_PROVINCES = {spec.slug: spec for spec in DEMO_PROVINCES if spec.slug in ("danang", "camau")}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with schema_context(get_public_schema_name()):
            ensure_public_tenant()
            for spec in TEST_PROVINCES.values():
                create_province(spec)
    yield


@pytest.fixture
def provinces(db):
    from provinces.models import Province

    return {p.slug: p for p in Province.objects.filter(slug__in=TEST_PROVINCES)}


@pytest.fixture
def danang(provinces):
    return provinces["danang"]


@pytest.fixture
def camau(provinces):
    return provinces["camau"]


@pytest.fixture(autouse=True)
def _back_to_public_schema():
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_redis(settings):
    """Each test starts with an empty test Redis database (rate-limit counters, cache)."""
    import redis

    if not settings.REDIS_URL.endswith("/15"):
        pytest.fail("tests must run against Redis database 15 (see pyproject.toml)")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    yield
