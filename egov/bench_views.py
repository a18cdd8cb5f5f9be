"""Only with BENCH_ENDPOINTS=1: the framework's ceiling for the lookup benchmark (bench/lookup)."""

from django.http import HttpResponse


def constant(request):
    return HttpResponse(b"ok", content_type="text/plain")
