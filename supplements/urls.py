"""The supplements' URLs on each province's domain (included by egov/urls_tenant.py)."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("bo-sung/<str:token>/", views.upload_page, name="supplement-upload"),
    path("bo-sung/<str:token>/tep/<int:pk>/", views.upload_link_file, name="supplement-upload-file"),
    path("tra-cuu/<str:token>/bo-sung/", views.lookup_upload, name="supplement-lookup-upload"),
    path("tra-cuu/<str:token>/giay-to/<int:pk>/", views.lookup_file, name="supplement-lookup-file"),
    # Under /admin/: the admin's login and the second factor apply.
    path("admin/giay-to-bo-sung/<int:pk>/", admin.site.admin_view(views.officer_file), name="supplement-file"),
]
