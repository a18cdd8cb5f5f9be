"""A live stack for end-to-end tests: a throwaway province, the fake Zalo, the portal as a real
server process and real Celery workers, all on the test database; everything removed afterwards.

The province is dropped with its schema (the append-only timeline is never deleted row by row), so
nothing leaks into the provinces other tests use.

Redis is private too: the stack starts its own ``redis-server`` on a free port (nothing on disk) and
points the portal server, the workers and this test process (cache, Celery broker and results) at
it, so a test may stop or restart it without touching the Redis other people and tests use.
"""

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_FIELDS = (
    "template_receipt",
    "template_supplement",
    "template_result_early",
    "template_result_ready",
    "template_apology",
    "template_new_appointment",
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


class PrivateRedis:
    """A ``redis-server`` owned by one test: a free port on 127.0.0.1, nothing saved, killed afterwards.

    ``restart()`` stops it (everything in it is lost, as when a Redis without persistence restarts)
    and starts it again on the same port.
    """

    DB = 15  # a test database number, so that conftest's guard accepts the URL

    def __init__(self, logs: Path | None = None, options: tuple[str, ...] = ()):
        self.options = options  # more of redis-server's settings, e.g. ("--rename-command", "CLIENT", "")
        self.port = None
        self.process = None
        self.logs = logs
        self.dir = tempfile.mkdtemp(prefix="redis-test-")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/{self.DB}"

    def pings(self):
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def start(self):
        for _ in range(5):  # a free port can be taken by someone else before we bind it
            port = self.port or free_port()
            log = open(Path(self.logs or self.dir) / "redis.log", "a")
            process = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", self.dir, *self.options],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            log.close()
            self.port, self.process = port, process
            deadline = time.monotonic() + 10
            while process.poll() is None and time.monotonic() < deadline and not self.pings():
                time.sleep(0.05)
            if process.poll() is None and self.pings():
                return self
            self.stop()
        raise AssertionError("the private redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def restart(self):
        self.stop()
        self.start()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _point_celery_at(broker_url, result_backend):
    """Send this process's Celery messages and results elsewhere; returns the previous pair."""
    from kombu import pools

    from egov.celery import app

    previous = (app.conf.broker_url, app.conf.result_backend)
    if app._pool is not None:
        app._pool.force_close_all()
    # app._pool is kombu's global pool for the URL: forget the closed ones, or the next send fails with
    # "Acquire on closed pool" once the shared URL is back.
    pools.reset()
    app.conf.broker_url, app.conf.result_backend = broker_url, result_backend
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    if hasattr(app._local, "backend"):
        del app._local.backend
    return previous


@contextmanager
def redis_for_this_process(url):
    """Point this test process's cache, Redis client and Celery app at ``url`` for the duration."""
    from egov.celery import app

    caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    # Read before the settings change: Celery's configuration is lazy, and read inside the override it
    # would load the private URL as "previous" and never point back at the shared Redis.
    previous = (app.conf.broker_url, app.conf.result_backend)
    with override_settings(REDIS_URL=url, CACHES=caches, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url):
        _point_celery_at(url, url)
        try:
            yield
        finally:
            _point_celery_at(*previous)


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
    redis: PrivateRedis | None = None
    workers: list = field(default_factory=list)
    fake_url: str = ""

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


def procfile_command(name):
    """The command ``make run`` starts for ``name`` (a line of Procfile.dev), as an argument list."""
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        process, sep, command = line.partition(":")
        if sep and process.strip() == name:
            argv = shlex.split(command)
            return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]
    raise AssertionError(f"no {name!r} process in Procfile.dev")


def _replace_option(argv, option, value):
    argv = list(argv)
    argv[argv.index(option) + 1] = str(value)
    return argv


@contextmanager
def demo_fake_process(province, logs, site_port):
    """The fake Zalo as ``make run`` runs it: the Procfile.dev command, with the configuration that
    ``seed_demo`` writes for ``province`` (its demo OA, secrets and webhook URL on the province's own
    domain, ``http://<slug>.localhost:<site_port>/zalo/webhook/``), on a free port → the fake's URL.

    Only the port and the configuration file's path differ from ``make run`` (so that a running demo
    and its var/fake-zalo.json are left alone)."""
    from zalo import demo

    config = logs / "fake-zalo.json"
    config.unlink(missing_ok=True)
    with override_settings(SITE_PORT=str(site_port), SITE_SCHEME="http"), tenant_context(province):
        original, demo.CONFIG = demo.CONFIG, config
        try:
            demo.seed(province)
        finally:
            demo.CONFIG = original
    connection.set_schema_to_public()
    port = free_port()
    argv = _replace_option(_replace_option(procfile_command("zalo"), "--port", port), "--config", config)
    log = open(logs / "fake-zalo.log", "w")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        wait_for(lambda: answers(port) or process.poll() is not None, 30, "the fake Zalo process")
        assert process.poll() is None, (logs / "fake-zalo.log").read_text()[-2000:]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def live_stack(django_db_blocker, *, slug, name, agency_code, app, queues, env_extra=None, fake_options=None):
    """The whole stack on a private Redis (``stack.redis``), removed afterwards.

    ``app=None``: the province gets its demo OA as ``seed_demo`` makes it and the fake runs as its own
    process as in ``make run`` (:func:`demo_fake_process`; ``stack.fake`` is None, ``stack.fake_url``
    its control URL), posting its webhooks to the province's own ``<slug>.localhost`` domain."""
    logs = ROOT / "test-output" / slug
    logs.mkdir(parents=True, exist_ok=True)
    private = PrivateRedis(logs).start()
    try:
        with redis_for_this_process(private.url):
            with _live_stack(
                django_db_blocker, private, logs, slug=slug, name=name, agency_code=agency_code, app=app,
                queues=queues, env_extra=env_extra, fake_options=fake_options,
            ) as stack:  # fmt: skip
                yield stack
    finally:
        private.close()


@contextmanager
def _live_stack(django_db_blocker, private, logs, *, slug, name, agency_code, app, queues, env_extra, fake_options):
    from dossiers.demo import seed_catalogue
    from fakezalo import run_in_thread
    from offices.demo import seed as seed_offices
    from provinces.models import Domain
    from provinces.services import ProvinceSpec, create_province
    from zalo.models import ZaloAccount

    port = free_port()
    fake_server = None
    with contextlib.ExitStack() as cleanup:
        if app is not None:
            fake_server, fake_url = run_in_thread(
                apps=[{**app, "webhook_url": f"http://127.0.0.1:{port}/zalo/webhook/"}],
                **{"delivery_delay": 0.1, "seen_delay": -1, **(fake_options or {})},
            )
            cleanup.callback(fake_server.stop)
            fake_server.fake.templates.update({"tpl-tn": {"params": []}})
        with django_db_blocker.unblock():
            drop_province(slug)
            province, _ = create_province(ProvinceSpec(name, slug, f"{slug}.localhost", agency_code))
            with tenant_context(province):
                seed_offices(province)
                seed_catalogue()
                if app is not None:
                    ZaloAccount.objects.create(
                        **{k: app[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
                        refresh_token=app["refresh_token"],
                        **dict.fromkeys(TEMPLATE_FIELDS, "tpl-tn"),
                    )
            if app is not None:
                # The in-thread fake posts its webhooks to 127.0.0.1: route that host name to this province too.
                Domain.objects.create(domain="127.0.0.1", tenant=province, is_primary=False)
            else:
                fake_url = cleanup.enter_context(demo_fake_process(province, logs, port))
            connection.set_schema_to_public()
            db_name = connection.settings_dict["NAME"]
        with _portal(django_db_blocker, private, logs, slug, queues, env_extra, province, fake_server, fake_url,
                     port, db_name) as stack:  # fmt: skip
            yield stack


@contextmanager
def _portal(django_db_blocker, private, logs, slug, queues, env_extra, province, fake_server, fake_url, port, db_name):
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
        "REDIS_URL": private.url,
        "CELERY_BROKER_URL": private.url,
        "CELERY_RESULT_BACKEND": private.url,
        **(env_extra or {}),
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=open(logs / "server.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    fake = fake_server.fake if fake_server is not None else None
    stack = LiveStack(province, fake, f"http://{slug}.localhost:{port}", env, logs, queues, private, fake_url=fake_url)
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
        with django_db_blocker.unblock():
            drop_province(slug)
