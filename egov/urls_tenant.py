"""URLs served on each province's own domain."""

from django.contrib import admin
from django.urls import path

from provinces import views

urlpatterns = [
    path("", views.province_home, name="province-home"),
    path("admin/", admin.site.urls),
]
