"""/healthz: answers 200 when PostgreSQL and Redis both answer, 503 otherwise.

It sits first in the middleware chain so that load balancers and container health checks get an
answer before tenant routing, but only on a known host: one written out in ALLOWED_HOSTS
(``127.0.0.1`` for the container's own check, the national domain…) or a province's domain. Any
other Host — a scanner's, a wildcard ``.example`` match — goes down the normal chain (400 or 404)
and learns nothing about the database or Redis.
"""

import json

import redis
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.http.request import split_domain_port

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


def is_known_host(request):
    """True when the request's Host is listed in ALLOWED_HOSTS as such, or is a province's domain."""
    try:
        domain, _port = split_domain_port(request.get_host())  # DisallowedHost unless ALLOWED_HOSTS matches
    except DisallowedHost:
        return False
    if not domain:
        return False
    listed = {h.lower().rstrip(".") for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")}
    if domain in listed or f"[{domain}]" in listed:
        return True
    from provinces.models import Domain

    try:
        connection.set_schema_to_public()
        return Domain.objects.filter(domain=domain).exists()
    except DatabaseError:  # the database is down: only listed hosts are answered
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.rstrip("/") == HEALTH_PATH and is_known_host(request):
            healthy, checks = health_report()
            body = json.dumps({"status": "ok" if healthy else "unavailable", "checks": checks})
            return HttpResponse(body, status=200 if healthy else 503, content_type="application/json")
        return self.get_response(request)
