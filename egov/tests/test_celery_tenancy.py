"""A task queued from a province runs in that province's schema: eagerly and on a real worker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from egov.celery import app as celery_app
from offices.models import Department
from offices.tasks import clear_expired_sessions, department_codes

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_task_runs_in_the_queuing_provinces_schema_in_eager_mode(danang, camau, settings):
    celery_app.conf.task_always_eager = True
    try:
        with tenant_context(danang):
            Department.objects.create(code="EAGER-DN", name="Phòng thử Đà Nẵng")
            result = department_codes.delay().get()
        assert result["schema"] == "danang" and "EAGER-DN" in result["codes"]
        with tenant_context(camau):
            result = department_codes.delay().get()
        assert result["schema"] == "camau" and "EAGER-DN" not in result["codes"]
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture
def committed_departments(django_db_setup, django_db_blocker):
    """Rows a separate worker process can see: committed, and removed afterwards."""
    from provinces.models import Province

    with django_db_blocker.unblock():
        provinces = {p.slug: p for p in Province.objects.filter(slug__in=("danang", "camau"))}
        code = f"WRK-{uuid.uuid4().hex[:8].upper()}"
        with tenant_context(provinces["danang"]):
            Department.objects.create(code=code, name="Phòng thử cho worker")
        connection.set_schema_to_public()
        yield provinces, code
        with tenant_context(provinces["danang"]):
            Department.objects.filter(code=code).delete()
        connection.set_schema_to_public()


@pytest.fixture
def worker(django_db_setup, django_db_blocker):
    """A real `celery worker` process on its own queue, against the test database and Redis."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    db_url = settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{db_name}"
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "egov.settings"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "egov",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


@pytest.mark.worker
def test_task_runs_in_the_queuing_provinces_schema_on_a_real_worker(committed_departments, worker, django_db_blocker):
    provinces, code = committed_departments
    started = time.monotonic()
    with django_db_blocker.unblock():
        with tenant_context(provinces["danang"]):
            from_danang = department_codes.apply_async(queue=worker)
        with tenant_context(provinces["camau"]):
            from_camau = department_codes.apply_async(queue=worker)
        with schema_context("public"):
            from_public = department_codes.apply_async(queue=worker)
    danang_result = from_danang.get(timeout=90)
    camau_result = from_camau.get(timeout=30)
    assert danang_result["schema"] == "danang" and code in danang_result["codes"]
    assert camau_result["schema"] == "camau" and code not in camau_result["codes"]
    # A task queued outside any province runs in the public schema, where province tables do not exist.
    with pytest.raises(Exception, match="offices_department"):
        from_public.get(timeout=30, propagate=True)
    assert time.monotonic() - started < 120


@pytest.mark.worker
def test_a_task_whose_result_nobody_reads_leaves_none_in_redis(committed_departments, worker, django_db_blocker):
    """Results are ignored unless a task asks to keep them: a worker writes no result for an outbox
    send or a sweep (a million sends would each leave one in Redis for an hour), while a task whose
    result is read back (the diagnostic) still has it."""
    provinces, code = committed_departments
    store = redis.Redis.from_url(settings.CELERY_RESULT_BACKEND)
    with django_db_blocker.unblock(), tenant_context(provinces["danang"]):
        ignored = clear_expired_sessions.apply_async(queue=worker)
        kept = department_codes.apply_async(queue=worker)  # after the first, on a one-at-a-time worker
    try:
        assert code in kept.get(timeout=90)["codes"]  # so the first task has finished too
        assert store.exists(celery_app.backend.get_key_for_task(kept.id)) == 1
        assert store.exists(celery_app.backend.get_key_for_task(ignored.id)) == 0
        assert ignored.state == "PENDING"  # nothing was ever stored for it
    finally:
        store.delete(celery_app.backend.get_key_for_task(kept.id))
