"""The web process's host → province cache: bounded, and right the moment a province or a domain
is added, renamed or removed (here at once, in other processes through the eviction channel)."""

import time

import pytest
from django.db import connection
from django_tenants.utils import get_public_schema_name

from egov import kv
from egov.localcache import CHANNEL
from egov.middleware import PREFIX, CachedTenantMiddleware, tenant_cache
from provinces.models import Domain, Province
from provinces.services import ProvinceSpec, create_province

pytestmark = pytest.mark.django_db


def wait_until(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def lookup(settings):
    settings.TENANT_CACHE_SECONDS = 300
    settings.TENANT_CACHE_MAX_ENTRIES = 3
    CachedTenantMiddleware.clear()
    cache = tenant_cache()
    cache.get("warm-up")
    assert wait_until(cache._subscribed.is_set)
    middleware = CachedTenantMiddleware(lambda request: None)

    def resolve(host):
        connection.set_schema_to_public()
        try:
            return middleware.get_tenant(Domain, host)
        except Domain.DoesNotExist:
            return None

    yield resolve
    CachedTenantMiddleware.clear()


def cached(host):
    return tenant_cache().get(PREFIX + host)


def test_a_new_province_is_found_at_once_and_unknown_hosts_are_not_stored(lookup):
    assert lookup("moi.localhost") is None
    assert cached("moi.localhost") is None
    create_province(ProvinceSpec("Tỉnh Mới", "moi", "moi.localhost", "000.00.08.H97"))
    assert lookup("moi.localhost").schema_name == "moi"


def test_a_renamed_domain_leaves_the_cache_here_and_is_announced_to_the_others(lookup, danang):
    assert lookup("danang.localhost") == danang
    assert cached("danang.localhost") == danang
    pubsub = kv.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    assert wait_until(lambda: pubsub.get_message(timeout=0.05) is None and pubsub.subscribed)
    domain = Domain.objects.get(domain="danang.localhost")
    domain.domain = "dn.localhost"
    domain.save()
    assert lookup("danang.localhost") is None  # the old host no longer opens the province
    assert lookup("dn.localhost") == danang
    messages = []
    assert wait_until(
        lambda: (
            messages.append(pubsub.get_message(timeout=0.05))
            or any(m and PREFIX + "danang.localhost" in m["data"].decode().split("\n") for m in messages)
        )
    )
    pubsub.close()


def test_a_renamed_province_is_served_with_its_new_name(lookup, danang):
    assert lookup("danang.localhost").name == danang.name
    connection.set_schema(get_public_schema_name())
    province = Province.objects.get(pk=danang.pk)
    province.name = "Thành phố Đà Nẵng mới"
    province.save()
    assert lookup("danang.localhost").name == "Thành phố Đà Nẵng mới"


def test_a_removed_domain_stops_resolving(lookup, danang):
    Domain.objects.create(domain="cu.danang.localhost", tenant=danang)
    assert lookup("cu.danang.localhost") == danang
    Domain.objects.filter(domain="cu.danang.localhost").first().delete()
    assert lookup("cu.danang.localhost") is None


def test_the_cache_holds_at_most_its_bound(lookup, danang, camau):
    hosts = ["danang.localhost", "camau.localhost"]
    for n in range(3):
        Domain.objects.create(domain=f"h{n}.localhost", tenant=danang)
        hosts.append(f"h{n}.localhost")
    for host in hosts:
        assert lookup(host) is not None
    assert len(tenant_cache()._data) == 3
    assert [cached(h) is not None for h in hosts] == [False, False, True, True, True]


def test_without_redis_a_rename_still_takes_effect_here(lookup, danang, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from egov.localcache import LocalCache

    assert lookup("danang.localhost") == danang

    def unreachable(self, keys):
        raise RedisConnectionError("down")

    monkeypatch.setattr(LocalCache, "evict_everywhere", unreachable)
    domain = Domain.objects.get(domain="danang.localhost")
    domain.domain = "dn2.localhost"
    domain.save()  # does not fail
    assert lookup("danang.localhost") is None
