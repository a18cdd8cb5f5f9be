"""In-process steps of bench/tenants, run inside the code under test (its directory is the cwd).

python driver.py create FROM TO      create provinces bt<FROM>..bt<TO-1> through create_province
python driver.py fanout              beat's per-tenant dispatch of every schedule entry, once
python driver.py cache               the web process's host → province cache over every domain
Each prints one JSON line of figures.
"""

import json
import os
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")

import django

django.setup()


def spec(i):
    from provinces.services import ProvinceSpec

    return ProvinceSpec(
        name=f"Tỉnh thử {i}",
        slug=f"bt{i:04d}",
        domain=f"bt{i:04d}.localhost",
        agency_code=f"{i // 10000:03d}.{i // 100 % 100:02d}.{i % 100:02d}.H99",
    )


def create(first, last):
    from provinces.services import create_province, ensure_public_tenant

    ensure_public_tenant()
    times = []
    for i in range(first, last):
        start = time.perf_counter()
        _province, created = create_province(spec(i))
        if created:
            times.append(time.perf_counter() - start)
    print(json.dumps({"created": len(times), "seconds": times}))


def fanout():
    import redis
    from celery.beat import Scheduler
    from celery.utils.imports import symbol_by_name
    from django.conf import settings

    from egov.celery import app

    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def queued():
        return {k.decode(): r.llen(k) for k in r.scan_iter(_type="list") if not k.startswith(b"_kombu")}

    for key in queued():
        r.delete(key)
    cls = symbol_by_name(settings.CELERY_BEAT_SCHEDULER)
    with tempfile.TemporaryDirectory() as tmp:
        kwargs = {"schedule_filename": os.path.join(tmp, "schedule")} if cls is not Scheduler else {}
        scheduler = cls(app=app, **kwargs)
        entries = [e for name, e in scheduler.schedule.items() if not name.startswith("celery.")]
        per_entry = {}
        with app.producer_or_acquire() as producer:
            for entry in entries:
                start = time.perf_counter()
                scheduler.apply_entry(entry, producer=producer)
                per_entry[entry.task] = round(time.perf_counter() - start, 4)
        getattr(scheduler, "close", lambda: None)()
    counts = queued()
    for key in counts:
        r.delete(key)
    print(json.dumps({"entries": per_entry, "messages": counts}))


def cache():
    from egov import middleware as module
    from provinces.models import Domain

    domains = list(Domain.objects.exclude(tenant__schema_name="public").values_list("domain", flat=True))
    middleware = module.CachedTenantMiddleware(lambda request: None)
    getattr(middleware, "clear", lambda: None)()
    if hasattr(module, "tenant_cache"):  # served only once subscribed to its eviction channel
        local = module.tenant_cache()
        local.get("warm-up")
        local._subscribed.wait(10)

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    start = time.perf_counter()
    for host in domains:
        middleware.get_tenant(Domain, host)
    cold = time.perf_counter() - start
    after = tracemalloc.take_snapshot()
    start = time.perf_counter()
    for host in domains:
        middleware.get_tenant(Domain, host)
    warm = time.perf_counter() - start
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(json.dumps({"domains": len(domains), "cold_s": cold, "warm_s": warm, "bytes": size}))


if __name__ == "__main__":
    step = sys.argv[1]
    if step == "create":
        create(int(sys.argv[2]), int(sys.argv[3]))
    elif step == "fanout":
        fanout()
    elif step == "cache":
        cache()
    else:
        raise SystemExit(f"unknown step {step}")
