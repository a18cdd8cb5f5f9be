"""The rows a period reads (months, weeks, days) cover exactly its days, each once."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reports.figures import cover
from reports.models import DAY, MONTH, WEEK


def expand(ranges):
    days = []
    for span, first, last in ranges:
        if span == DAY:
            days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
        elif span == WEEK:
            assert first.weekday() == 0
            monday = first
            while monday <= last:
                days += [monday + timedelta(days=i) for i in range(7)]
                monday += timedelta(days=7)
        else:
            assert span == MONTH and first.day == 1
            month = first
            while month <= last:
                following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                days += [month + timedelta(days=i) for i in range((following - month).days)]
                month = following
    return days


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(0, 800))
def test_cover_is_exact(first, length):
    last = first + timedelta(days=length)
    days = expand(cover(first, last))
    assert sorted(days) == [first + timedelta(days=i) for i in range(length + 1)]


def test_a_year_reads_twelve_months():
    assert cover(date(2026, 1, 1), date(2026, 12, 31)) == [(MONTH, date(2026, 1, 1), date(2026, 12, 31))]
    assert len(cover(date(2025, 12, 3), date(2026, 12, 3))) <= 6
