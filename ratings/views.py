"""The one-tap rating page on the citizen's token: /tra-cuu/<token>/danh-gia/.

The token (128 random bits, revocable) is the only credential and names the only dossier the page can
rate: nothing in the form says which dossier. Unknown tokens count against the client address like the
status page's. Five big buttons (one tap sends) and an optional comment; works on a phone.
"""

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dossiers import lookup
from dossiers.models import Dossier, Status
from dossiers.views_public import BAD_LINK, LookupForm, _throttled, private_response
from egov.ratelimit import client_address

from . import services
from .chat import LABELS
from .models import Rating


# No CSRF token: the URL's own token is the secret a forged cross-site post would need, no session or
# cookie is involved, and the page's Referrer-Policy: no-referrer makes browsers post with `Origin: null`
# (Django's origin check refused every citizen's tap, found by the browser test).
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def rate_page(request, token):
    address = client_address(request)
    try:
        lookup.check_token_attempts(address)
    except lookup.Throttled as exc:
        return _throttled(request, exc, "lookup/form.html", {"form": LookupForm()})
    dossier = Dossier.objects.select_related("procedure").filter(lookup_token=token).first() if token else None
    if dossier is None:
        lookup.record_bad_token(address)
        return private_response(
            render(request, "lookup/form.html", {"form": LookupForm(), "error": BAD_LINK}, status=404)
        )
    error, status = "", 200
    if request.method == "POST":
        try:
            services.record(
                dossier, request.POST.get("score"), request.POST.get("comment", ""), source=Rating.Source.PAGE
            )
        except services.RatingRefused as exc:
            error, status = exc.message, (409 if isinstance(exc, services.RatingLocked) else 400)
        else:
            return HttpResponseRedirect("?ok=1")  # 302 then GET: a reload does not post again
    rating = Rating.objects.filter(dossier=dossier).first()
    changeable = rating is None or services.is_changeable(rating)
    context = {
        "dossier": dossier,
        "returned": dossier.status == Status.RETURNED,
        "rating": rating,
        "changeable": changeable,
        "until": services.changeable_until(rating) if rating else None,
        "choices": [(score, LABELS[score]) for score in (5, 4, 3, 2, 1)],
        "error": error,
        "thanks": request.GET.get("ok") == "1" and rating is not None and not error,
        "max_comment": services.MAX_COMMENT,
        "title": _("Đánh giá mức độ hài lòng"),
    }
    return private_response(render(request, "ratings/rate.html", context, status=status))
