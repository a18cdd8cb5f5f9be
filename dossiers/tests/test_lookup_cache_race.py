"""A reader that read a dossier just before an event must not put the old state back into the cache
after the event's invalidation (it would be served for the cache's whole lifetime)."""

import re

import pytest
from django.test import Client

from dossiers import lookup, services
from dossiers.tests.factories import receive

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


def _event_while_reading(monkeypatch, capture, dossier, officer, to_department):
    """The next database read of a dossier returns the state before a hand-over that commits (and is
    invalidated) right after the read, before the reader writes its copy."""
    real_load = lookup._load

    def load_then_event(**filters):
        before = real_load(**filters)
        with capture(execute=True):
            services.hand_over(dossier, officer, to_department=to_department)
        monkeypatch.setattr(lookup, "_load", real_load)
        return before

    monkeypatch.setattr(lookup, "_load", load_then_event)


@pytest.mark.parametrize("door", ["page", "api"])
def test_an_event_during_a_cold_read_is_never_hidden_by_the_old_copy(
    door, officers, monkeypatch, django_capture_on_commit_callbacks
):
    dossier = receive(officers["reception"])
    url = f"/tra-cuu/{dossier.lookup_token}/" if door == "page" else f"/api/v1/lookup/{dossier.lookup_token}/"
    _event_while_reading(
        monkeypatch,
        django_capture_on_commit_callbacks,
        dossier,
        officers["reception"],
        officers["specialist"].department,
    )
    client = Client(**HOST)

    def status_shown():
        response = client.get(url)
        if door == "api":
            return response.json()["status"]["label"]
        match = re.search(r'<div class="status s\d+">([^<]*)</div>', response.content.decode())
        return match.group(1)

    assert status_shown() == "Được tiếp nhận"  # what the reader read, before the event
    for _ in range(2):  # then from the cache: the new state, never the old copy
        assert status_shown() == "Đang xử lý"
    assert lookup.status_by_token(dossier.lookup_token)["status"]["label"] == "Đang xử lý"


def test_an_undisturbed_cold_read_is_cached(officers):
    dossier = receive(officers["reception"])
    client = Client(**HOST)
    client.get(f"/tra-cuu/{dossier.lookup_token}/")
    assert lookup.cached_rendering(dossier.lookup_token, "html") is not None
