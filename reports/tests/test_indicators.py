"""Each indicator's definition on hand-made dossiers (reports/indicators.py's docstring)."""

from datetime import date

import pytest

from dossiers.models import Channel
from reports.indicators import LABELS, Scope, breakdown_direct, dossiers_behind, figures_direct

from .checks import check_kept
from .helpers import ask_supplement, at, done, received, registered, sign, step, to_department

pytestmark = pytest.mark.django_db

MARCH = Scope(date(2026, 3, 1), date(2026, 3, 31))


def check_behind(scope, result):
    """Every number clicks through to exactly the dossiers it counts; the kept figures agree."""
    for key in LABELS:
        assert dossiers_behind(scope, key).count() == getattr(result, key), key
    check_kept(scope)


def test_done_early_on_time_late_at_the_boundaries(officers):
    # Received Monday 02/03 09:00, 3 working days: due Thursday 05/03.
    reception = officers["reception"]
    early, on_time, late = (received(reception, at(2026, 3, 2, 9, 0)) for _ in range(3))
    assert early.due_date == date(2026, 3, 5)
    done(early, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 4, 16, 0))
    done(on_time, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 5, 23, 0))
    done(late, officers, at(2026, 3, 2, 10, 0), at(2026, 3, 6, 0, 5))
    result = figures_direct(MARCH)
    assert (result.done_early, result.done_on_time, result.done_late) == (1, 1, 1)
    assert result.received == result.received_counter == 3
    # Processing days: 2 (03, 04), 3 (03–05), 4 (03–06).
    assert result.durations == {2: 1, 3: 1, 4: 1}
    assert result.avg_days == 3.0 and result.p90_days == 4
    check_behind(MARCH, result)


def test_paused_time_is_not_processing_time(officers):
    reception, specialist = officers["reception"], officers["specialist"]
    dossier = received(reception, at(2026, 3, 2, 9, 0), days=5)
    to_department(at(2026, 3, 2, 10, 0), dossier, reception, specialist)
    ask_supplement(at(2026, 3, 3, 10, 0), dossier, specialist)  # paused Tue → Mon: stops Wed, Thu, Fri, Mon
    step(at(2026, 3, 9, 9, 0), "receive_supplement", dossier, specialist)
    sign(at(2026, 3, 11, 9, 0), dossier, officers["leader"])
    result = figures_direct(MARCH)
    # Working days after 02/03 up to 11/03: 7; minus 4 stopped = 3.
    assert result.durations == {3: 1}


def test_carried_over(officers):
    reception = officers["reception"]
    carried = received(reception, at(2026, 2, 25, 9, 0))
    done(carried, officers, at(2026, 2, 26, 9, 0), at(2026, 3, 2, 9, 0))
    closed_before = received(reception, at(2026, 2, 25, 9, 0))
    step(at(2026, 2, 27, 9, 0), "withdraw", closed_before, reception, reason="Theo đơn")
    done_before = received(reception, at(2026, 2, 25, 9, 0))
    done(done_before, officers, at(2026, 2, 26, 9, 0), at(2026, 2, 28, 9, 0))
    step(at(2026, 3, 3, 9, 0), "return_result", done_before, reception)  # returned in March: still not carried
    result = figures_direct(MARCH)
    assert result.carried_over == 1 and result.received == 0 and result.done == 1
    assert list(dossiers_behind(MARCH, "carried_over")) == [carried]
    check_behind(MARCH, result)


def test_channels_refused_withdrawn_stopped(officers):
    reception, leader = officers["reception"], officers["leader"]
    received(reception, at(2026, 3, 2, 9, 0), channel=Channel.ONLINE)
    received(reception, at(2026, 3, 2, 9, 0), channel=Channel.POSTAL)
    refused = registered(at(2026, 3, 2, 9, 0))
    step(at(2026, 3, 2, 10, 0), "refuse", refused, reception, reason="Sai thủ tục")
    registered(at(2026, 3, 2, 9, 0))  # not accepted: not received
    withdrawn = received(reception, at(2026, 3, 3, 9, 0))
    step(at(2026, 3, 4, 9, 0), "withdraw", withdrawn, reception, reason="Theo đơn")
    stopped = received(reception, at(2026, 3, 3, 9, 0))
    to_department(at(2026, 3, 3, 10, 0), stopped, reception, officers["specialist"])
    step(at(2026, 3, 4, 9, 0), "stop", stopped, leader, reason="Không đủ điều kiện")
    result = figures_direct(MARCH)
    assert (result.received, result.received_counter, result.received_online, result.received_postal) == (4, 2, 1, 1)
    assert (result.refused, result.withdrawn, result.stopped) == (1, 1, 1)
    check_behind(MARCH, result)
    assert breakdown_direct(MARCH, "point")[0].figures.received == 4
