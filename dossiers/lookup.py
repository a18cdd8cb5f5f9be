"""Citizen lookup: what a citizen may see of a dossier, found by the QR token or by code + verifier.

The payload is the same for the web page and the API, carries no ID number, phone or address,
and is cached per token and language in the province's cache until the dossier's next event.
"""

import hmac
import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg.sql import Literal
from redis.commands.core import Script

from egov import kv, ratelimit
from egov.compiled import bare_prepared_cursor
from egov.localcache import LocalCache
from egov.translations import remembered
from offices.phones import normalize_phone

from . import workflow
from .codes import is_code
from .events import dossier_event_committed
from .models import Dossier, Grade, Status
from .text import mask_name

CACHE_TIMEOUT = 3600
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

PLAIN_STATUS = {
    Status.REGISTERED: gettext_lazy("Hồ sơ đã được đăng ký trực tuyến và đang chờ cán bộ một cửa tiếp nhận."),
    Status.ACCEPTED: gettext_lazy("Hồ sơ đã được tiếp nhận và sẽ được chuyển đến cơ quan giải quyết."),
    Status.REFUSED: gettext_lazy("Hồ sơ không được tiếp nhận. Xem lý do trong quá trình xử lý bên dưới."),
    Status.IN_PROGRESS: gettext_lazy("Hồ sơ đang được giải quyết."),
    Status.SUPPLEMENT: gettext_lazy(
        "Hồ sơ cần bổ sung giấy tờ. Vui lòng nộp đủ các giấy tờ dưới đây; "
        "thời hạn giải quyết tạm dừng cho đến khi nhận đủ."
    ),
    Status.FEES: gettext_lazy("Vui lòng nộp phí, lệ phí hoặc thuế để hồ sơ được giải quyết tiếp."),
    Status.WITHDRAWN: gettext_lazy("Hồ sơ đã được rút theo đề nghị của người nộp."),
    Status.STOPPED: gettext_lazy("Hồ sơ đã dừng xử lý. Xem lý do trong quá trình xử lý bên dưới."),
    Status.RESULT_READY: gettext_lazy("Đã có kết quả. Mời ông/bà đến bộ phận một cửa để nhận kết quả."),
    Status.RETURNED: gettext_lazy("Đã trả kết quả."),
}

NOT_FOUND_MESSAGE = gettext_lazy(
    "Không tìm thấy hồ sơ khớp với mã hồ sơ và thông tin xác minh. Vui lòng kiểm tra lại mã trên giấy tiếp nhận."
)


_STATUS_LABELS = dict(Status.choices)  # lazy: translated when the payload is built
_FILE_STATE_LABELS = {
    "awaiting_item": gettext_lazy("Chờ bạn chọn giấy tờ"),
    "received": gettext_lazy("Chờ cán bộ xem xét"),
    "accepted": gettext_lazy("Đã chấp nhận"),
    "refused": gettext_lazy("Không chấp nhận"),
}
_GRADE_LABELS = dict(Grade.choices)


class Found:
    """One dossier as the citizen lookup reads it: a single SQL statement, no model instance.

    Carries what the lookup needs besides the payload (id, code, token, the verifier's candidates)
    and the row the payload is built from (`payload()`, in the active language).
    """

    __slots__ = ("applicant_id_number", "applicant_phone", "code", "id", "lookup_token", "_row")

    def __init__(self, row):
        self.id, self.code, self.lookup_token, self.applicant_phone, self.applicant_id_number = row[:5]
        self._row = row

    def payload(self) -> dict:
        """Everything the citizen sees; no ID number, phone, address or internal note."""
        word = _words_of(translation.get_language())
        (
            *_ids,
            applicant_name,
            status,
            fee_amount,
            grade,
            procedure_code,
            procedure_name,
            department,
            officer,
            title,
            received_at,
            appointment_date,
            original_appointment_date,
            result_ready_at,
            returned_at,
            missing,
            timeline,
            online_files,
        ) = self._row
        return {
            "code": self.code,
            "procedure": {"code": procedure_code, "name": procedure_name},
            "applicant": mask_name(applicant_name),
            "status": {
                "code": status,
                "label": word(_STATUS_LABELS.get(status, status)),
                "explanation": word(PLAIN_STATUS[status]),
            },
            # An officer who is not (or no longer) in the department is never shown as holding it
            # (the statement leaves them out).
            "holder": (
                {"department": department, "officer": officer, "title": title}
                if status in workflow.OPEN_STATUSES
                else None
            ),
            "received_at": received_at,
            "appointment_date": appointment_date,
            "original_appointment_date": original_appointment_date,
            "missing_components": missing or [],
            "fee_amount": fee_amount if status == Status.FEES else None,
            "grade": word(_GRADE_LABELS.get(grade, grade)) if grade else None,
            "result_ready_at": result_ready_at,
            "returned_at": returned_at,
            "timeline": [
                {
                    "at": at,
                    "action": word(workflow.label_or_key(action)),
                    "status": word(_STATUS_LABELS.get(to_status, to_status)),
                    "department": to_department,
                    "note": note,  # never internal_note
                }
                for at, action, to_status, to_department, note in timeline or ()
            ],
            # What the citizen sent online (supplements), each viewable by them through their token;
            # nothing of the paper file or of the officers' work.
            "online_files": [
                {
                    "id": file_id,
                    "item": item,
                    "kind": "pdf" if content_type == "application/pdf" else "image",
                    "state": word(_FILE_STATE_LABELS.get(state, state)),
                    "refused": state == "refused",
                    "refusal_reason": reason if state == "refused" else "",
                    "sent_at": sent_at,
                }
                for file_id, item, content_type, state, reason, sent_at in online_files or ()
            ],
        }


def _words_of(language):
    """The payload's labels (statuses, explanations, actions, grades, file states: lazy translations held
    by modules for the process's life) as text in `language`, each translated once per process
    (egov/translations.py). A value that is not such a label (a status code no longer known, an action
    no longer in the registry) is shown as text."""

    def word(label):
        if isinstance(label, str | int):  # not a lazy label: as stored
            return str(label)
        return remembered(language, id(label), lambda: str(label))

    return word


_DATETIME = "'HH24:MI DD/MM/YYYY'"  # a moment, in the active time zone
_DATE = "'DD/MM/YYYY'"


def _statement(column):
    """The one statement of a lookup: the dossier with its procedure and holder, the items of its
    latest supplement request (only while one is pending), and the timeline the citizen sees, each
    formatted as the payload shows it."""
    from django.contrib.auth import get_user_model

    from offices.models import Department, Officer
    from supplements.models import SupplementFile

    from .models import DossierEvent, MissingComponent, Procedure, SupplementRequest

    user = get_user_model()
    # The actions never shown to citizens: constants of the code, written into the statement (a
    # parameter would be converted to an array on every run).
    hidden = Literal(_HIDDEN).as_string(None)
    return f"""
    SELECT d.id, d.code, d.lookup_token, d.applicant_phone, d.applicant_id_number,
        d.applicant_name, d.status, d.fee_amount, d.grade, p.code, p.name,
        coalesce(nullif(cd.short_name, ''), cd.name),
        CASE WHEN o.department_id = d.current_department_id THEN
            coalesce(nullif(concat_ws(' ', nullif(u.last_name, ''), nullif(u.first_name, '')), ''),
                     u.{user.USERNAME_FIELD}) END,
        CASE WHEN o.department_id = d.current_department_id THEN o.title END,
        to_char(coalesce(d.accepted_at, d.registered_at) AT TIME ZONE %(tz)s, {_DATETIME}),
        to_char(d.appointment_date, {_DATE}),
        CASE WHEN d.original_appointment_date IS DISTINCT FROM d.appointment_date
            THEN to_char(d.original_appointment_date, {_DATE}) END,
        to_char(d.result_ready_at AT TIME ZONE %(tz)s, {_DATETIME}),
        to_char(d.returned_at AT TIME ZONE %(tz)s, {_DATETIME}),
        CASE WHEN d.status = {Status.SUPPLEMENT:d} THEN (
            SELECT json_agg(json_build_object('name', m.name, 'reason', m.reason) ORDER BY m.id)
            FROM {MissingComponent._meta.db_table} m
            WHERE m.request_id = (
                SELECT r.id FROM {SupplementRequest._meta.db_table} r WHERE r.dossier_id = d.id
                ORDER BY r.requested_at DESC, r.id DESC LIMIT 1)
        ) END,
        (SELECT json_agg(json_build_array(
                    to_char(e.created_at AT TIME ZONE %(tz)s, {_DATETIME}), e.action, e.to_status,
                    coalesce(nullif(td.short_name, ''), td.name), e.citizen_note)
                ORDER BY e.created_at, e.id)
         FROM {DossierEvent._meta.db_table} e
         LEFT JOIN {Department._meta.db_table} td ON td.id = e.to_department_id
         WHERE e.dossier_id = d.id AND e.action <> ALL({hidden}::text[])),
        (SELECT json_agg(json_build_array(
                    f.id, m.name, f.content_type, f.state, f.refusal_reason,
                    to_char(f.created_at AT TIME ZONE %(tz)s, {_DATETIME}))
                ORDER BY f.created_at, f.id)
         FROM {SupplementFile._meta.db_table} f
         LEFT JOIN {MissingComponent._meta.db_table} m ON m.id = f.item_id
         WHERE f.dossier_id = d.id AND f.file <> '')
    FROM {Dossier._meta.db_table} d
    JOIN {Procedure._meta.db_table} p ON p.id = d.procedure_id
    LEFT JOIN {Department._meta.db_table} cd ON cd.id = d.current_department_id
    LEFT JOIN {Officer._meta.db_table} o ON o.id = d.current_officer_id
    LEFT JOIN {user._meta.db_table} u ON u.id = o.user_id
    WHERE d.{column} = %(value)s
    """  # noqa: S608 - table and column names from the models, the hidden actions quoted, every value a parameter


_STATEMENTS = {}
_COLUMNS = {"lookup_token": "lookup_token", "code": "code", "pk": "id"}


def _load(**filters) -> Found | None:
    """The dossier matching one filter (lookup_token=, code= or pk=), read in one round trip.

    Django's `connection.cursor()` would cost two more on a cold page: Django's health check
    (`CONN_HEALTH_CHECKS`: a `SELECT 1` before a request's first statement) and django-tenants'
    `SET search_path`, each waited for before the statement is sent. Here the `SET search_path`
    (django-tenants' own, for the request's province) goes in the same round trip as the statement
    (a psycopg pipeline), and the health check's guarantee is kept without its round trip: a
    connection found dead by the statement itself (the server restarted, an idle connection cut) is
    closed and the statement, which only reads, is sent once more on a new connection. Inside a
    transaction (no new connection possible there) the check runs as Django would run it.
    """
    ((name, value),) = filters.items()
    sql = _STATEMENTS.get(name)
    if sql is None:
        sql = _STATEMENTS[name] = _statement(_COLUMNS[name])
    params = {"value": value, "tz": timezone.get_current_timezone_name()}
    conn = connections[DEFAULT_DB_ALIAS]  # `connection` finds the thread's wrapper at every use
    if conn.in_atomic_block:
        conn.close_if_health_check_failed()
        return _fetch(conn, sql, params)
    try:
        row = _fetch(conn, sql, params)
    except (OperationalError, InterfaceError):
        if conn.is_usable():
            raise  # the statement failed, not the connection
        conn.close()
        row = _fetch(conn, sql, params)
    conn.health_check_done = True  # the connection answered: as good as the check
    return row


def _fetch(conn, sql, params) -> Found | None:
    conn.ensure_connection()
    raw_connection = conn.connection
    # Bound on the server and prepared once per connection: planning (three times the execution's
    # cost) is saved, in every province; without Django's cursor wrapper unless something needs it
    # (egov/compiled.py).
    with conn.wrap_database_errors, bare_prepared_cursor(conn) as cursor:
        if conn.search_path_is_set():  # the connection is on the province's path already
            cursor.execute(sql, params)
        else:
            # One round trip: django-tenants' `SET search_path` for the request's province, then the
            # statement, are sent together; the pipeline's end (a Sync) brings both answers back.
            with raw_connection.pipeline():
                with raw_connection.cursor() as setting:
                    conn._handle_search_path(setting)
                cursor.execute(sql, params)
        row = cursor.fetchone()
    return Found(row) if row else None


_HIDDEN = sorted(workflow.HIDDEN_FROM_CITIZEN)


def public_status(dossier: Dossier) -> dict:
    """Everything the citizen sees of `dossier` (as stored), in the active language."""
    return _load(pk=dossier.pk).payload()


def cache_language(language=None) -> str | None:
    """The language a cached payload or rendering is filed under: the active one, if the portal speaks it.

    Everything cached here holds translated words (status label, explanation, timeline, grade,
    the page around them), so every key carries the language. None for a language the portal does
    not offer: such an answer is computed but never cached.
    """
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    try:
        supported = translation.get_supported_language_variant(language)
    except LookupError:
        return None
    return supported if supported in cache_languages() else None


def cache_languages() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def _cache_key(token, language):
    """Key of the status payload in one language, per province."""
    return kv.tenant_key("lookup", "status", language, token)


def rendered_key(token, variant, language):
    """Key of a rendered form of the status (the page, the API's JSON) in one language, per province."""
    return kv.tenant_key("lookup", variant, language, token)


def _generation_key(token):
    return kv.tenant_key("lookup", "gen", token)


RENDERED_VARIANTS = ("html", "json")

# A copy is kept only if no event came since the reader looked at the database: the dossier's
# generation (bumped by every invalidation) is the one the reader saw before reading. Without it, a
# reader that read the old state just before an event and wrote just after its invalidation would
# serve the old state for the whole CACHE_TIMEOUT.
_SET_IF_GENERATION = """
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
    for i = 2, #KEYS do
        redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[2])
    end
    return 1
end
return 0
"""
_set_if_generation = Script(None, _SET_IF_GENERATION.encode())  # sent by its SHA once loaded


def generation(token) -> str:
    """The dossier's cache generation for `token`, read before reading the database."""
    value = kv.client().get(_generation_key(token))
    return value.decode() if value is not None else "0"


def _keep_arguments(token, copies: dict, seen_generation) -> tuple[list, list]:
    """The keys and arguments of `_SET_IF_GENERATION` keeping `copies` (key → content)."""
    return [_generation_key(token), *copies], [seen_generation, CACHE_TIMEOUT, *copies.values()]


def _keep(token, copies: dict, seen_generation) -> bool:
    """Keep every copy (key → content) at once, unless the dossier's generation moved past `seen_generation`."""
    keys, args = _keep_arguments(token, copies, seen_generation)
    return bool(_set_if_generation(keys=keys, args=args, client=kv.client()))


def _keep_unanswered(token, copies: dict, seen_generation):
    """`_keep`, without waiting for Redis to say whether the copies were kept (`kv.send_unanswered`): a
    cold page goes out at once. Redis runs the same script, by its text (a script Redis does not know
    by its SHA could not be reported missing)."""
    keys, args = _keep_arguments(token, copies, seen_generation)
    kv.send_unanswered("EVAL", _SET_IF_GENERATION, len(keys), *keys, *args)


_local = LocalCache()


def cached_rendering(token, variant):
    """A rendered status in the active language from this process's memory, else from Redis: no database."""
    language = cache_language()
    if language is None or not TOKEN_RE.match(token or ""):
        return None
    key = rendered_key(token, variant, language)
    content = _local.get(key)
    if content is None:
        content = kv.client().get(key)
        if content is not None:
            _local.set(key, content)
    return content


def cache_rendering(token, variant, content: bytes, seen_generation: str | None = None):
    """Keep `content`, rendered in the active language, until the dossier's next event; not if an event
    came after `seen_generation` (from `status_with_generation`, read before the database)."""
    language = cache_language()
    if language is None or seen_generation is None:
        return
    key = rendered_key(token, variant, language)
    if _keep(token, {key: content}, seen_generation):
        _local.set(key, content)


def status_with_generation(token: str) -> tuple[dict | None, str | None]:
    """The payload for a QR token in the active language (cached per language), or None for an
    unknown, tampered or revoked token; with the generation it was read at (for `cache_rendering`).

    Cold: one Redis round trip (the generation and the cached payload together), one database
    statement, one Redis command keeping the payload, sent without waiting for its answer."""
    if not TOKEN_RE.match(token or ""):
        return None, None
    language = cache_language()
    key = _cache_key(token, language) if language else None
    if key:
        seen, cached = kv.ask("MGET", _generation_key(token), key)
    else:
        seen, cached = kv.ask("GET", _generation_key(token)), None
    seen = seen.decode() if seen is not None else "0"
    if cached is not None:
        return json.loads(cached), seen
    found = _load(lookup_token=token)
    if found is None:
        return None, None
    payload = found.payload()
    if key:
        _keep_unanswered(token, {key: json.dumps(payload, ensure_ascii=False)}, seen)
    return payload, seen


def status_by_token(token: str) -> dict | None:
    return status_with_generation(token)[0]


def serve(token: str, variant: str, address: str, render) -> bytes | None:
    """The status behind a QR token rendered as `variant` ("html", "json") in the active language, by
    `render(payload) -> bytes`; None for an unknown, tampered or revoked token (counted against
    `address`); `Throttled` for an address that tried too many unknown tokens.

    Hot: from this process's memory, else one Redis round trip. Cold: that same round trip reads
    the rendering, the address's count, the dossier's generation and the cached payload at once;
    then one database statement, and one Redis command keeping the payload and the rendering (only if
    no event came since the generation was read), sent without waiting for its answer.
    """
    language = cache_language()
    valid = bool(TOKEN_RE.match(token or ""))
    cacheable = valid and language is not None
    if cacheable:
        key = rendered_key(token, variant, language)
        content = _local.get(key)
        if content is not None:
            return content
    rates = _rates()
    count_key, remaining = ratelimit.window_key("lookup-token", address, rates)
    keys = [count_key]
    if valid:
        keys.append(_generation_key(token))
    if cacheable:
        keys += [key, _cache_key(token, language)]
    count, seen, content, cached = [*kv.ask("MGET", *keys), None, None, None][:4]
    if content is not None:
        _local.set(key, content)
        return content
    if int(count or 0) >= rates.limit:
        raise Throttled(max(remaining, 1))
    if not valid:
        record_bad_token(address)
        return None
    seen = seen.decode() if seen is not None else "0"
    copies = {}
    if cached is not None:
        payload = json.loads(cached)
    else:
        found = _load(lookup_token=token)
        if found is None:
            record_bad_token(address)
            return None
        payload = found.payload()
        if cacheable:
            copies[_cache_key(token, language)] = json.dumps(payload, ensure_ascii=False)
    content = render(payload)
    if cacheable:
        copies[key] = content
        # Not waited for; and so not put in this process's memory either (whether Redis kept it, under
        # the generation read, is not known here): the next request for it fills that from Redis.
        _keep_unanswered(token, copies, seen)
    return content


def normalise_code(code: str) -> str:
    return re.sub(r"\s+", "", code or "").upper()[:64]


def normalise_verifier(value: str) -> str:
    """One form for what a citizen types: separators dropped, a phone in its national form 0xxxxxxxxx.

    "0905 123 456", "+84 905.123.456" and "84905123456" → "0905123456"; "048 090 001 234" → "048090001234".
    """
    compact = re.sub(r"[\s.\-()]", "", value or "").upper()
    try:
        return normalize_phone(compact)
    except ValidationError:
        return compact


MIN_VERIFIER_LENGTH = 9  # a CMND has 9 digits, a CCCD 12, a phone 10–11


def verifier_matches(dossier: Dossier | Found, verifier: str) -> bool:
    """The applicant's full phone number or full ID-paper number, normalised, compared in constant time."""
    given = normalise_verifier(verifier)
    if len(given) < MIN_VERIFIER_LENGTH:
        return False
    candidates = [normalise_verifier(v) for v in (dossier.applicant_phone, dossier.applicant_id_number) if v]
    matched = False
    for candidate in candidates:
        if len(candidate) >= MIN_VERIFIER_LENGTH:
            matched |= hmac.compare_digest(given.encode(), candidate.encode())
    return matched


class Throttled(Exception):
    def __init__(self, retry_after, message=None):
        super().__init__(retry_after)
        self.retry_after = retry_after
        minutes = max(1, round(retry_after / 60))
        self.message = message or _("Bạn đã tra cứu quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.") % {
            "minutes": minutes
        }


def _wait_text(seconds):
    if seconds >= 2 * 3600:
        return _("%(n)s giờ") % {"n": round(seconds / 3600)}
    return _("%(n)s phút") % {"n": max(1, round(seconds / 60))}


class Locked(Throttled):
    """The code is locked after too many wrong verifiers: the same answer whether the code exists or not."""

    def __init__(self, retry_after):
        super().__init__(
            retry_after,
            _(
                "Mã hồ sơ này tạm khóa tra cứu vì thông tin xác minh bị nhập sai nhiều lần. Vui lòng thử lại sau "
                "%(wait)s, hoặc quét mã QR trên giấy tiếp nhận để xem ngay."
            )
            % {"wait": _wait_text(retry_after)},
        )


def _rates():
    from django.conf import settings

    return ratelimit.Rate.parse(settings.LOOKUP_RATE_PER_ADDRESS)


def _code_lockout():
    from django.conf import settings

    return ratelimit.Lockout(settings.LOOKUP_FAILURES_BEFORE_LOCK, tuple(settings.LOOKUP_LOCKOUT_WINDOWS))


def _found_by_code(code: str, verifier: str, address: str) -> Found | None:
    """Code + verifier, for the page, the API and the Zalo chat alike; None for a wrong pair or an unknown code.

    Throttled per client address; per dossier code, the attempt is counted in Redis before the
    database is asked, so parallel guesses cannot pass the allowance, and a code whose allowance is
    spent is locked (`Locked`), whether or not it exists. The QR token never goes through here.
    """
    code = normalise_code(code)
    verdict = ratelimit.hit("lookup-address", address, _rates())
    if not verdict.allowed:
        raise Throttled(verdict.retry_after)
    if not is_code(code):
        return None
    policy = _code_lockout()
    attempt = ratelimit.attempt("lookup-code", code, policy)
    if not attempt.allowed:
        raise Locked(attempt.retry_after)
    found = _load(code=code)
    if found is None or not verifier_matches(found, verifier):
        ratelimit.failed(attempt, policy)
        return None
    ratelimit.succeeded(attempt)
    return found


def dossier_by_code(code: str, verifier: str, address: str) -> Dossier | None:
    """The dossier itself for code + verifier (the Zalo chat links the account to it); see `_found_by_code`."""
    found = _found_by_code(code, verifier, address)
    return Dossier.objects.get(pk=found.id) if found else None


def status_by_code(code: str, verifier: str, address: str) -> dict | None:
    """The citizen's payload for code + verifier; None (answered identically) for a wrong pair or unknown code.

    One database statement: the payload is built from the row the verifier was checked against (not
    kept in the cache: its generation could not be read before the row).
    """
    found = _found_by_code(code, verifier, address)
    return found.payload() if found else None


def check_token_attempts(address: str):
    """Unknown tokens count against the address, so nobody can sweep the token space."""
    verdict = ratelimit.peek("lookup-token", address, _rates())
    if not verdict.allowed:
        raise Throttled(verdict.retry_after)


def record_bad_token(address: str):
    ratelimit.hit("lookup-token", address, _rates())


@receiver(dossier_event_committed, dispatch_uid="dossiers.lookup.invalidate")
def invalidate_cached_status(sender, dossier, event, **kwargs):
    """Drop the dossier's cached payloads and renderings in every language, here and in every process."""
    if event is not None and event.from_status is None:
        # The dossier's first event (an intake or an online registration): its token did not exist
        # before this transaction committed, so no reader can have found and kept anything under it.
        return
    tokens = [dossier.lookup_token, getattr(event, "previous_lookup_token", None)]
    tokens = [t for t in tokens if t]
    languages = cache_languages()
    payloads = [_cache_key(t, lang) for t in tokens for lang in languages]
    rendered = [rendered_key(t, variant, lang) for t in tokens for variant in RENDERED_VARIANTS for lang in languages]
    # One MULTI: the copies go and the generation moves at the same instant, so a reader that looked
    # before it cannot put its copy back after it (`_SET_IF_GENERATION`).
    with kv.client().pipeline(transaction=True) as pipe:
        pipe.delete(*payloads, *rendered)
        for token in tokens:
            pipe.incr(_generation_key(token))
            pipe.expire(_generation_key(token), 2 * CACHE_TIMEOUT)
        pipe.execute()
    _local.evict_everywhere(rendered)
