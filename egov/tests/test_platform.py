import os
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.cache import cache
from django_tenants.utils import tenant_context

ROOT = Path(__file__).resolve().parents[2]


def test_designed_for_django_5_2_lts():
    assert django.VERSION[:2] == (5, 2)


def test_vietnamese_by_default_english_available_and_vietnam_time():
    assert settings.LANGUAGE_CODE == "vi"
    assert dict(settings.LANGUAGES).keys() == {"vi", "en"}
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"


@pytest.mark.django_db
def test_cache_keys_of_two_provinces_never_collide(danang, camau):
    with tenant_context(danang):
        cache.set("dossier-status", "Đà Nẵng", 30)
    with tenant_context(camau):
        assert cache.get("dossier-status") is None
        cache.set("dossier-status", "Cà Mau", 30)
    with tenant_context(danang):
        assert cache.get("dossier-status") == "Đà Nẵng"
        cache.delete("dossier-status")
    with tenant_context(camau):
        assert cache.get("dossier-status") == "Cà Mau"
        cache.delete("dossier-status")


@pytest.mark.django_db
def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz", HTTP_HOST="localhost")  # a known host (unknown ones: test_deployment)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


def test_check_deploy_with_production_settings_reports_no_warnings():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-production-secret-from-the-environment-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "danang.motcua.gov.vn,.motcua.gov.vn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"DEBUG": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_pages_are_vietnamese_by_default_and_english_on_request(client, danang):
    vietnamese = client.get("/tra-cuu/", HTTP_HOST="danang.localhost").content.decode()
    english = client.get("/tra-cuu/", HTTP_HOST="danang.localhost", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Tra cứu tình trạng hồ sơ" in vietnamese
    assert "Check dossier status" in english and "Tra cứu tình trạng hồ sơ" not in english
