"""Queues by priority: a storm warning's delivery never waits behind routine messages.

Checked where Celery decides (its router, and a real publish to the test Redis) and where the
processes are declared (the broadcasts queue has workers of its own that consume nothing else)."""

import re
import shlex

import pytest
import redis
import yaml
from django.conf import settings

from egov.celery import app

EMERGENCY = {"broadcasts.tasks.start_broadcast", "broadcasts.tasks.send_broadcast_batch"}
ROUTINE = {
    "notifications.tasks.send_notification",
    "notifications.tasks.reap_notifications",
    "broadcasts.tasks.resume_broadcasts",
    "offices.tasks.clear_expired_sessions",
    "zalo.tasks.refresh_token_ahead",
    "zalo.tasks.process_inbound_event",
}


def queue_of(task_name):
    return app.amqp.router.route({}, task_name, args=(), kwargs={})["queue"].name


def test_the_router_sends_emergency_delivery_to_its_queue_and_routine_work_elsewhere():
    app.loader.import_default_modules()
    assert EMERGENCY | ROUTINE <= set(app.tasks)  # the names are real tasks
    assert {name: queue_of(name) for name in EMERGENCY} == dict.fromkeys(EMERGENCY, "broadcasts")
    assert {name: queue_of(name) for name in ROUTINE} == dict.fromkeys(ROUTINE, "default")


def test_beat_housekeeping_in_every_province_stays_off_the_emergency_queue():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert queue_of(entry["task"]) == "default", entry["task"]


@pytest.mark.django_db
def test_published_messages_land_in_the_queue_the_router_chose(danang):
    from django_tenants.utils import tenant_context

    from broadcasts.tasks import send_broadcast_batch
    from notifications.tasks import send_notification

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    with tenant_context(danang):
        send_broadcast_batch.apply_async((1, [1, 2]))
        send_notification.apply_async((1,))
        send_notification.apply_async((2,))
    assert broker.llen("broadcasts") == 1
    assert broker.llen("default") == 2
    broker.delete("broadcasts", "default")


def worker_queues(command):
    args = shlex.split(command) if isinstance(command, str) else list(command)
    if "worker" not in args:
        return None
    return set(args[args.index("-Q") + 1].split(","))


def test_the_broadcasts_queue_has_workers_of_its_own():
    procfile = (settings.BASE_DIR / "Procfile.dev").read_text()
    dev = [worker_queues(line.split(":", 1)[1]) for line in procfile.splitlines() if re.match(r"^\w+:", line)]
    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
    prod = [worker_queues(service.get("command", [])) for service in compose["services"].values()]
    for declared in (dev, prod):
        workers = [queues for queues in declared if queues is not None]
        assert {"broadcasts"} in workers  # a worker for the warnings alone
        assert any("default" in queues and "broadcasts" not in queues for queues in workers)
