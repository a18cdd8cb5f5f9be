"""docker-compose.yml cannot be run here (no Docker engine); these checks read it instead."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_parses_and_has_the_whole_stack_with_healthchecks():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "worker-broadcasts", "beat"}
    for name in ("db", "redis", "web", "worker", "worker-broadcasts", "beat"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "worker-broadcasts", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "egov", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "egov", "beat"]
    assert services["worker-broadcasts"]["command"][services["worker-broadcasts"]["command"].index("-Q") + 1] == (
        "broadcasts"
    )


def test_no_secret_is_baked_into_compose_or_the_image():
    app_env = compose()["services"]["web"]["environment"]
    for key in ("SECRET_KEY", "DATABASE_URL"):
        assert "${" in app_env[key], f"{key} must come from the environment"
    assert app_env["DEBUG"] == "0"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"^ENV .*SECRET_KEY", dockerfile, re.MULTILINE)
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


# --- production defaults (issue 9, part 9) ----------------------------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-secret-from-the-environment-9f8e7d6c5b4a",
    "ALLOWED_HOSTS": "danang.motcua.gov.vn,.motcua.gov.vn",
    "ZALO_OAUTH_BASE_URL": "https://oauth.zaloapp.com",
    "ZALO_OPENAPI_BASE_URL": "https://openapi.zalo.me",
    "ZALO_BUSINESS_BASE_URL": "https://business.openapi.zalo.me",
}


def manage(*args, **env):
    """Run manage.py in a fresh process with production settings plus `env` (None removes a variable)."""
    merged = {k: v for k, v in {**os.environ, **PRODUCTION, **env}.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=merged, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_with_https_zalo_urls_reports_no_issues():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "http://openapi.zalo.me",  # tokens in clear text
        "https://127.0.0.1:8900",  # loopback: the local fake, not Zalo
        "https://localhost",
        "https://10.0.0.7",
        "https://192.168.1.20",
        "https://169.254.169.254",  # cloud metadata
        "https://[::1]:8900",
        "https://2130706433",  # 127.0.0.1 written as a number
    ],
)
def test_production_refuses_http_or_loopback_zalo_urls(url):
    result = manage("check", "--deploy", ZALO_OPENAPI_BASE_URL=url)
    assert result.returncode != 0, url
    assert "ImproperlyConfigured" in result.stderr and "ZALO_OPENAPI_BASE_URL" in result.stderr, result.stderr[-800:]

    allowed = manage("check", ZALO_OPENAPI_BASE_URL=url, ZALO_ALLOW_INSECURE_BASE_URLS="1")
    assert allowed.returncode == 0, allowed.stderr[-800:]  # an explicit opt-in, e.g. a benchmark against the fake


def test_production_defaults_to_the_real_zalo_hosts():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.ZALO_OPENAPI_BASE_URL, settings.ZALO_OAUTH_BASE_URL)",
        ZALO_OPENAPI_BASE_URL=None,
        ZALO_OAUTH_BASE_URL=None,
        ZALO_BUSINESS_BASE_URL=None,
    )
    assert result.returncode == 0, result.stderr[-800:]
    assert result.stdout.split() == ["https://openapi.zalo.me", "https://oauth.zaloapp.com"]


PROBE = (
    "from django.test import RequestFactory; from django.conf import settings; "
    "r = RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https', HTTP_HOST='danang.motcua.gov.vn', "
    "secure=False); print(r.is_secure(), getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
)


def test_forwarded_proto_ignored_without_trusted_proxy():
    # A client talking plain http to the app writes "X-Forwarded-Proto: https" itself.
    alone = manage("shell", "--no-imports", "-c", PROBE, TRUSTED_PROXY_COUNT=None)
    assert alone.returncode == 0, alone.stderr[-800:]
    assert alone.stdout.split() == ["False", "None"]

    behind_proxy = manage("shell", "--no-imports", "-c", PROBE, TRUSTED_PROXY_COUNT="1")
    assert behind_proxy.returncode == 0, behind_proxy.stderr[-800:]
    assert behind_proxy.stdout.split()[0] == "True"


@pytest.mark.django_db
def test_healthz_refuses_unknown_hosts(client, danang, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", ".localhost", "testserver"]
    for host in ("attacker.example", "any-host.internal", "nothing-here.localhost"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code in (400, 404), host
        assert b"redis" not in response.content and b"database" not in response.content, host
    for host in ("127.0.0.1:8000", "localhost", "danang.localhost"):  # the container's check, a province
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200, host
        assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_a_web_process_freezes_what_it_loaded_at_start():
    """egov/wsgi.py: settings, apps, models and the URL conf are frozen out of the garbage collector's
    walks (a full collection over them paused a worker for about 100 ms); what requests make is not."""
    probe = (
        "import gc, egov.wsgi\n"
        "from django.urls import get_resolver\n"
        "frozen, walked = gc.get_freeze_count(), len(gc.get_objects())\n"
        "made = [[i] for i in range(1000)]\n"
        "urls_walked = any(o is get_resolver().url_patterns for o in gc.get_objects())\n"
        "print(frozen, walked, len(gc.get_objects()) - walked, int(urls_walked))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, check=True
    ).stdout
    frozen, walked, made_after, urls_walked = map(int, out.split())
    assert frozen > 50_000 and walked < frozen / 20  # almost everything loaded at start is frozen
    assert made_after >= 1000  # objects made afterwards are still collected
    assert not urls_walked  # the URL conf was loaded before the freeze, not at the first request


def _gunicorn_settings(**env):
    """What gunicorn resolves from gunicorn.conf.py for the web processes, as the image starts it."""
    environ = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "WEB_THREADS")}
    out = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "egov.wsgi:application"],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = dict(re.findall(r"^(\w+)\s+= (.*)$", out, re.MULTILINE))
    return int(found["workers"]), int(found["threads"]), found["worker_class"]


def test_the_image_runs_the_web_processes_the_benchmarks_measure():
    """bench/lookup and bench/intake measure 4 processes × 4 threads on 2 cores: the image and compose
    start gunicorn without pinning a shape, so gunicorn.conf.py gives that one (2 per core × 4 threads)."""
    web = compose()["services"]["web"]["command"]
    image = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE).group(1)
    for command in (web, yaml.safe_load(image)):
        assert command[:2] == ["gunicorn", "egov.wsgi:application"]
        assert not {"-w", "--workers", "--threads", "-k", "--worker-class"} & set(command), command
    assert _gunicorn_settings() == (2 * len(os.sched_getaffinity(0)), 4, "gthread")
    assert _gunicorn_settings(WEB_CONCURRENCY="3", WEB_THREADS="2") == (3, 2, "gthread")
