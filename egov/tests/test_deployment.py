"""docker-compose.yml cannot be run here (no Docker engine); these checks read it instead."""

import re
from pathlib import Path

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
