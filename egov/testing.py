"""A live stack for end-to-end tests: a throwaway province, the fake Zalo, the portal as a real
server process and real Celery workers, all on the test database; everything removed afterwards.

The province is dropped with its schema (the append-only timeline is never deleted row by row), so
nothing leaks into the provinces other tests use.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_FIELDS = (
    "template_receipt",
    "template_supplement",
    "template_result_early",
    "template_result_ready",
    "template_apology",
    "template_broadcast",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def drop_province(slug):
    from provinces.models import Domain, Province

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')
    Domain.objects.filter(tenant__schema_name=slug).delete()
    Province.objects.filter(schema_name=slug).delete()


@dataclass
class LiveStack:
    province: object
    fake: object
    portal_url: str
    env: dict
    logs: Path
    queues: str
    workers: list = field(default_factory=list)

    def start_worker(self, concurrency=1):
        log = self.logs / f"worker-{len(self.workers)}.log"
        pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "-c", str(concurrency)]
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "egov", "worker", "-Q", self.queues, *pool,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
             "-n", f"live-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env=self.env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.workers.append(process)
        wait_for(lambda: " ready." in log.read_text() or process.poll() is not None, 60, "the worker to start")
        assert process.poll() is None, log.read_text()[-2000:]
        return process


@contextmanager
def live_stack(django_db_blocker, *, slug, name, agency_code, app, queues, env_extra=None, fake_options=None):
    from dossiers.demo import seed_catalogue
    from offices.demo import seed as seed_offices
    from provinces.models import Domain
    from provinces.services import ProvinceSpec, create_province
    from zalo.fake import run_in_thread
    from zalo.models import ZaloAccount

    port = free_port()
    fake_server, fake_url = run_in_thread(
        apps=[{**app, "webhook_url": f"http://127.0.0.1:{port}/zalo/webhook/"}],
        **{"delivery_delay": 0.1, "seen_delay": -1, **(fake_options or {})},
    )
    fake_server.fake.templates.update({"tpl-tn": {"params": []}})
    with django_db_blocker.unblock():
        drop_province(slug)
        province, _ = create_province(ProvinceSpec(name, slug, f"{slug}.localhost", agency_code))
        # The fake posts its webhooks to 127.0.0.1: route that host name to this province too.
        Domain.objects.create(domain="127.0.0.1", tenant=province, is_primary=False)
        with tenant_context(province):
            seed_offices(province)
            seed_catalogue()
            ZaloAccount.objects.create(
                **{k: app[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
                refresh_token=app["refresh_token"],
                **dict.fromkeys(TEMPLATE_FIELDS, "tpl-tn"),
            )
        connection.set_schema_to_public()
        db_name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{db_name}",
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "ZALO_OAUTH_BASE_URL": fake_url,
        "ZALO_OPENAPI_BASE_URL": fake_url,
        "ZALO_BUSINESS_BASE_URL": fake_url,
        "TENANT_CACHE_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "1",
        "SITE_PORT": str(port),
        **(env_extra or {}),
    }
    logs = ROOT / "test-output" / slug
    logs.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=open(logs / "server.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    stack = LiveStack(province, fake_server.fake, f"http://{slug}.localhost:{port}", env, logs, queues)
    try:
        wait_for(lambda: answers(port), 30, "the portal server")
        yield stack
    finally:
        for process in [server, *stack.workers]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        fake_server.stop()
        with django_db_blocker.unblock():
            drop_province(slug)
