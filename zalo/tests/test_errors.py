"""The one error table: every code of docs/zalo-api.md maps to the documented decision."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from zalo.errors import (
    ERROR_TABLE,
    VN_TZ,
    NightBan,
    NotFollower,
    NotInteracted,
    Permanent,
    QuotaExceeded,
    RateLimited,
    RetryLater,
    TokenInvalid,
    ZaloError,
    error_for,
    in_night_ban,
    next_six_am,
)

# Transcribed from the doc's "Error codes that change what the sender does" table.
DOCUMENTED = {
    TokenInvalid: {-216, -220, -124},
    RetryLater: {-32, -211, -115, -144, -218},
    NotFollower: {-213},
    NotInteracted: {-230, -232},
    NightBan: {-234, -133},
    Permanent: {-201, -108, -109, -111, -112, -227, -217, -139, -141, -244},
}
DOC = Path("/work/shared/docs/zalo-api.md")


def test_every_documented_code_maps_to_its_decision():
    for decision, codes in DOCUMENTED.items():
        for code in codes:
            assert issubclass(ERROR_TABLE[code], decision), code
            error = error_for(code, "msg")
            assert isinstance(error, decision) and isinstance(error, ZaloError)
            assert error.code == code and error.message == "msg"


def test_the_table_has_nothing_undocumented():
    assert set(ERROR_TABLE) == set().union(*DOCUMENTED.values())


def test_walk_the_table():
    for code, cls in ERROR_TABLE.items():
        error = error_for(code)
        assert type(error) is cls
        assert error.retryable == isinstance(error, RetryLater | NightBan)


def test_rate_limit_and_quota_are_distinguishable_retry_later():
    assert isinstance(error_for(-32), RateLimited)
    for code in (-211, -115, -144, -218):
        assert isinstance(error_for(code), QuotaExceeded)
    assert error_for(-32).retry_after == 60


@pytest.mark.parametrize("code", [-1, -999, -14014, -214])
def test_unknown_negative_codes_are_permanent(code: int):
    assert type(error_for(code)) is Permanent


@pytest.mark.skipif(not DOC.exists(), reason="shared doc not available")
def test_the_doc_lists_exactly_these_codes():
    section = DOC.read_text(encoding="utf-8").split("## Error codes that change what the sender does", 1)[1]
    section = section.split("\n## ", 1)[0]
    codes = {-int(n) for n in re.findall(r"[−-](\d+)", section)}
    assert codes == set(ERROR_TABLE)


@pytest.mark.parametrize(
    ("now_utc", "expected_local"),
    [
        (datetime(2026, 3, 1, 15, 0, tzinfo=UTC), datetime(2026, 3, 2, 6, 0, tzinfo=VN_TZ)),  # 22:00 VN
        (datetime(2026, 3, 1, 20, 0, tzinfo=UTC), datetime(2026, 3, 2, 6, 0, tzinfo=VN_TZ)),  # 03:00 VN
        (datetime(2026, 3, 1, 22, 59, tzinfo=UTC), datetime(2026, 3, 2, 6, 0, tzinfo=VN_TZ)),  # 05:59 VN
        (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), datetime(2026, 3, 3, 6, 0, tzinfo=VN_TZ)),  # 06:00 VN
        (datetime(2026, 3, 1, 15, 0), datetime(2026, 3, 2, 6, 0, tzinfo=VN_TZ)),  # naive = UTC
    ],
)
def test_next_six_am(now_utc: datetime, expected_local: datetime):
    result = next_six_am(now_utc)
    assert result == expected_local and result.utcoffset().total_seconds() == 7 * 3600


def test_night_ban_window_and_retry_at():
    assert in_night_ban(datetime(2026, 3, 1, 15, 0, tzinfo=UTC))  # 22:00 VN
    assert in_night_ban(datetime(2026, 3, 1, 22, 59, tzinfo=UTC))  # 05:59 VN
    assert not in_night_ban(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))  # 06:00 VN
    assert not in_night_ban(datetime(2026, 3, 1, 14, 59, tzinfo=UTC))  # 21:59 VN
    ban = error_for(-234, "night", now=datetime(2026, 3, 1, 19, 0, tzinfo=UTC))  # 02:00 VN
    assert isinstance(ban, NightBan)
    assert ban.retry_at == datetime(2026, 3, 2, 6, 0, tzinfo=VN_TZ) and ban.retry_after == 4 * 3600
