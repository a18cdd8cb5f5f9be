"""The records the fake keeps: its options, OAs, citizens, tokens, authorisation codes, articles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class FakeOptions:
    """Behaviour of the fake (CLI flags, ``run_in_thread`` keywords, ``POST /_fake/options``)."""

    token_lifetime: float = 90000.0
    refresh_token_lifetime: float = 90 * 86400.0
    old_token_grace: float = 60.0
    code_lifetime: float = 600.0
    reused_refresh_answer: str = "error"  # "error" (−14014) or "empty" (HTTP 200, empty body)
    cs_window: float = 7 * 86400.0
    cs_reply_quota: int = 0  # CS messages allowed per interaction; 0 = unlimited
    zns_daily_quota: int = 500
    rate_limit_per_minute: int = 0  # per app; 0 = off (real: about 4000)
    require_appsecret_proof: bool = False
    article_processing: float = 0.0  # seconds during which /v2.0/article/verify answers −214
    webhook_url: str | None = None  # default for OAs without their own; "{oa_id}" is replaced
    webhook_timeout: float = 5.0
    webhook_retries: int = 2
    delivery_delay: float = 0.2
    seen_delay: float | None = 1.0
    max_messages: int = 200_000
    seed: int | None = None


@dataclass
class OA:
    app_id: str
    oa_id: str
    oa_secret_key: str
    name: str = ""
    webhook_url: str | None = None

    def public(self) -> dict[str, Any]:
        return {"app_id": self.app_id, "oa_id": self.oa_id, "name": self.name, "webhook_url": self.webhook_url}


@dataclass
class _AccessToken:
    app_id: str
    oa_id: str
    expires_at: float
    dies_at: float | None = None


@dataclass
class _RefreshToken:
    app_id: str
    oa_id: str
    expires_at: float
    access_token: str | None = None
    used: bool = False
    registered: bool = False  # given at registration (CLI/config/control API), not issued by a grant


@dataclass
class _Code:
    app_id: str
    oa_id: str
    challenge: str
    expires_at: float
    used: bool = False


@dataclass
class Citizen:
    oa_id: str
    user_id: str
    name: str = ""
    follower: bool = False
    followed_at: float | None = None
    last_interaction: float | None = None
    reply_remaining: int = 0


@dataclass
class _Article:
    oa_id: str
    token: str
    id: str
    title: str
    description: str
    text: str
    ready_at: float
    author: str = ""
    cover_url: str = ""
