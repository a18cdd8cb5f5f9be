"""The only code that writes ratings: record (first or changed), answer (audited), and the request.

One rating per dossier (a database constraint): the first one creates the row, later ones change it
for RATING_CHANGE_DAYS after it was first given (counted from then, not from the last change), then
it is read-only. A rating is accepted only for a dossier whose result was returned.
"""

import re
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.models import Dossier, DossierEvent, Status

from .models import Rating, RatingAnswerLog

MAX_COMMENT = 1000
LOW_SCORE = 2
ANSWER_MAX = 2000

# Words of a complaint (compared without diacritics): such a comment is answered whatever the score.
COMPLAINT_WORDS = (
    "phan nan",
    "khieu nai",
    "to cao",
    "buc xuc",
    "nhung nhieu",
    "tieu cuc",
    "hach dich",
    "gay kho",
    "thai do",
    "khong hai long",
    "cham tre",
    "tre hen",
    "boi duong",
    "phong bi",
    "vo trach nhiem",
)
# A dossier is taken in at a reception point by one of these events (dossiers/registers.py).
INTAKE_ACTIONS = ("receive", "accept")


class RatingRefused(Exception):
    """The rating cannot be recorded; ``message`` is the Vietnamese text for the citizen."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class RatingLocked(RatingRefused):
    pass


def plain(text: str) -> str:
    """Lower case without diacritics (đ → d), spaces collapsed."""
    text = unicodedata.normalize("NFKD", (text or "").lower().replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def is_complaint(comment: str) -> bool:
    words = plain(comment)
    return any(re.search(rf"\b{word}\b", words) for word in COMPLAINT_WORDS)


def needs_answer(score: int, comment: str) -> bool:
    return score <= LOW_SCORE or is_complaint(comment)


def changeable_until(rating: Rating):
    return rating.first_given_at + timedelta(days=settings.RATING_CHANGE_DAYS)


def is_changeable(rating: Rating, now=None) -> bool:
    return (now or timezone.now()) < changeable_until(rating)


def _context(dossier):
    """The procedure, deciding department, reception point and officers who held the dossier, from its events."""
    from reports.lifecycle import reception_point_id as point_of

    events = list(DossierEvent.objects.filter(dossier=dossier).select_related("actor").order_by("created_at", "id"))
    officers = {e.to_officer_id for e in events if e.to_officer_id}
    if dossier.received_by_id:
        officers.add(dossier.received_by_id)
    # The one rule of the reports' "reception point" dimension (reports/lifecycle.py).
    reception_point_id = point_of(dossier, events)
    return {
        "procedure_id": dossier.procedure_id,
        "department_id": dossier.current_department_id,
        "reception_point_id": reception_point_id,
    }, officers


def _clean(score, comment):
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise RatingRefused(_("Mức đánh giá phải là một số từ 1 đến 5."))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise RatingRefused(_("Góp ý dài quá %(max)d ký tự.") % {"max": MAX_COMMENT})
    return score, comment


def record(dossier: Dossier, score, comment="", *, source, follower_user_id="") -> tuple[Rating, bool]:
    """The citizen's rating of `dossier`: (rating, created). A change within the window replaces the score
    (and the comment when one is given); after it, RatingLocked. Raises RatingRefused for bad input."""
    score, comment = _clean(score, comment)
    now = timezone.now()
    with transaction.atomic():
        current = Dossier.objects.filter(pk=dossier.pk).values_list("status", flat=True).first()
        if current != Status.RETURNED:
            raise RatingRefused(_("Hồ sơ chưa trả kết quả nên chưa thể đánh giá."))
        existing = Rating.objects.select_for_update().filter(dossier_id=dossier.pk).first()
        if existing is None:
            context, officers = _context(dossier)
            try:
                with transaction.atomic():  # two first ratings at once: the constraint keeps one
                    rating = Rating.objects.create(
                        dossier_id=dossier.pk,
                        score=score,
                        comment=comment,
                        source=source,
                        follower_user_id=follower_user_id,
                        first_given_at=now,
                        updated_at=now,
                        needs_answer=needs_answer(score, comment),
                        **context,
                    )
                    rating.officers.set(officers)
                    _refresh_figures(rating)
                    return rating, True
            except IntegrityError:
                existing = Rating.objects.select_for_update().get(dossier_id=dossier.pk)
        rating = _change(existing, score, comment, source, follower_user_id, now)
        _refresh_figures(rating)
        return rating, False


def _refresh_figures(rating):
    """The dashboard's counters follow the rating, in its transaction (reports/figures.py)."""
    from reports import figures

    figures.refresh(figures.RATING, rating.pk)


def _change(rating, score, comment, source, follower_user_id, now):
    if not is_changeable(rating, now):
        raise RatingLocked(
            _("Đánh giá hồ sơ này đã quá %(days)d ngày nên không thay đổi được nữa.")
            % {"days": int(settings.RATING_CHANGE_DAYS)}
        )
    rating.score = score
    if comment:
        rating.comment = comment
    rating.source = source
    if follower_user_id:
        rating.follower_user_id = follower_user_id
    rating.updated_at = now
    rating.changes += 1
    # Once in the inbox a rating stays there (it may already be answered); otherwise it follows the change.
    rating.needs_answer = rating.needs_answer or needs_answer(score, rating.comment)
    rating.save()
    return rating


def answer(rating: Rating, officer, text: str, address="") -> Rating:
    """A province admin answers a rating: recorded on the rating and in the append-only log, shown on the
    citizen's rating page and, when they rated from a Zalo account, sent there as a CS message."""
    text = (text or "").strip()
    if not text:
        raise RatingRefused(_("Chưa nhập câu trả lời."))
    if len(text) > ANSWER_MAX:
        raise RatingRefused(_("Câu trả lời dài quá %(max)d ký tự.") % {"max": ANSWER_MAX})
    if officer is None:
        raise RatingRefused(_("Chỉ cán bộ của tỉnh mới trả lời được đánh giá."))
    with transaction.atomic():
        rating = Rating.objects.select_for_update().get(pk=rating.pk)
        rating.answer, rating.answered_by, rating.answered_at, rating.answer_error = text, officer, timezone.now(), ""
        rating.save(update_fields=["answer", "answered_by", "answered_at", "answer_error"])
        RatingAnswerLog.objects.create(rating=rating, officer=officer, text=text, address=address)
        _refresh_figures(rating)
        if rating.follower_user_id:
            transaction.on_commit(lambda: _send_answer(rating.pk))
    return rating


def _send_answer(pk):
    from zalo.inbox import send_reply

    rating = Rating.objects.select_related("dossier").get(pk=pk)
    text = _("Trả lời về đánh giá hồ sơ %(code)s: %(answer)s") % {"code": rating.dossier.code, "answer": rating.answer}
    if not send_reply(rating.follower_user_id, text[:2000]):
        Rating.objects.filter(pk=pk).update(
            answer_error=_("Zalo không nhận tin; câu trả lời vẫn hiện trên trang đánh giá của công dân.")
        )
