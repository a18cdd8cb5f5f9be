"""API v1 on each province's domain, with its OpenAPI schema and browsable docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from dossiers import api

router = DefaultRouter()
router.register("dossiers", api.DossierViewSet, basename="dossier")
router.register("procedures", api.ProcedureViewSet, basename="procedure")

urlpatterns = [
    path("v1/lookup/", api.PublicLookupView.as_view(), name="api-lookup"),
    path("v1/lookup/<str:token>/", api.PublicTokenLookupView.as_view(), name="api-lookup-token"),
    path("v1/points/", api.PublicPointsView.as_view(), name="api-points"),
    path("v1/registrations/", api.PublicRegistrationView.as_view(), name="api-registrations"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
