"""/healthz: answers 200 when PostgreSQL and Redis both answer, 503 otherwise.

It sits first in the middleware chain so that load balancers and container health checks can
call it on any host name (including the container's own), before tenant routing.
"""

import json

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse

HEALTH_PATH = "/healthz"


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {exc.__class__.__name__}"


def check_redis():
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def health_report():
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(value == "ok" for value in checks.values())
    return healthy, checks


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.rstrip("/") == HEALTH_PATH:
            healthy, checks = health_report()
            body = json.dumps({"status": "ok" if healthy else "unavailable", "checks": checks})
            return HttpResponse(body, status=200 if healthy else 503, content_type="application/json")
        return self.get_response(request)
