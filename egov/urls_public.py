"""URLs of the public schema (the national landing page and national admin)."""

from django.urls import path

from egov.admin_sites import national_admin_site
from offices import views as offices_views
from provinces import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("admin/xac-thuc-hai-buoc/", offices_views.two_factor, name="two-factor"),
    path("admin/", national_admin_site.urls),
]
