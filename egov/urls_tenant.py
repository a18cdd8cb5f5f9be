"""URLs served on each province's own domain."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from broadcasts import views as broadcast_views
from dossiers import views_public
from offices import views as offices_views
from provinces import views
from ratings import views as rating_views
from zalo import webhook as zalo_webhook

urlpatterns = [
    path("", views.province_home, name="province-home"),
    path("tra-cuu/", views_public.lookup_form, name="lookup"),
    path("tra-cuu/<str:token>/", views_public.status_page, name="lookup-status"),
    path("tra-cuu/<str:token>/danh-gia/", rating_views.rate_page, name="rating-page"),
    # Early: every API call (the citizens' lookup among them) is resolved before the patterns below
    # are tried; none of them starts with api/.
    path("api/", include("egov.urls_api")),
    path("admin/xac-thuc-hai-buoc/", offices_views.two_factor, name="two-factor"),
    path("", include("supplements.urls")),  # the upload link, citizens' and officers' files (before admin/)
    path("admin/", admin.site.urls),
    path("zalo/webhook/", zalo_webhook.webhook, name="zalo-webhook"),
    path("canh-bao/", broadcast_views.current_warnings, name="warnings"),
]

if settings.BENCH_ENDPOINTS:
    from egov import bench_views

    urlpatterns.append(path("bench/constant/", bench_views.constant))
