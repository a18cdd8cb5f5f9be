"""URLs of the public schema (the national landing page and national admin)."""

from django.urls import path

from egov.admin_sites import national_admin_site
from provinces import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("admin/", national_admin_site.urls),
]
