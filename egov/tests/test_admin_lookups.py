"""Admin changelists are not oracles: no query-string lookup filters by a field that is not offered.

The attack (issue 9, part 2): ``/admin/zalo/zaloaccount/?oa_secret_key__regex=^a`` filtered the list,
so a province admin could read a write-only secret back a few requests per character (and, on the
national site, ``?password__startswith=`` the superusers' hashes). Every registered ModelAdmin of both
sites, found from the sites' registries at run time, is attacked on every field.
"""

from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_tenants.utils import get_public_schema_name, schema_context

from conftest import otp_login
from dossiers.tests.factories import receive
from egov.admin_sites import (
    StrictLookupsAdmin,
    StrictLookupsAdminSite,
    check_strict_lookups,
    national_admin_site,
)
from offices.tests.factories import OfficerFactory, UserFactory
from supplements.models import SupplementFile
from zalo.models import Follower, ZaloAccount

pytestmark = pytest.mark.django_db

PROVINCE = {"HTTP_HOST": "danang.localhost"}
NATIONAL = {"HTTP_HOST": "localhost"}
SECRET = "Zq7-oa-secret-key-known-to-the-test"
ATTACKS = ("regex", "^a"), ("startswith", "a"), ("gt", "a")


def logged_in(user, password=None):
    client = Client()
    otp_login(client, user, password=password)  # through the login form: password + TOTP code
    return client


def has_changelist(model_admin):
    return any(getattr(p, "name", "") and p.name.endswith("_changelist") for p in model_admin.get_urls())


def changelist_url(site, model, urlconf=None):
    opts = model._meta
    return reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist", urlconf=urlconf)


def attack_params(model):
    """Every concrete field with __regex/__startswith/__gt, and every field behind each relation with __regex."""
    for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
        for lookup, value in ATTACKS:
            yield f"{field.name}__{lookup}", value
        if field.is_relation and field.related_model is not None:
            for target in field.related_model._meta.concrete_fields:
                yield f"{field.name}__{target.name}__regex", "^a"


def rows(response):
    cl = response.context["cl"]
    return cl.result_count, sorted(obj.pk for obj in cl.result_list)


def refused_or_unfiltered(client, url, host, key, value, baseline):
    """Whether ``?key=value`` was refused (the "?e=1" page) or left the row set exactly as it was."""
    response = client.get(f"{url}?{urlencode({key: value})}", **host)
    assert response.status_code < 500, (url, key)
    if response.status_code == 302:
        return response["Location"].endswith("?e=1")
    return response.status_code == 200 and rows(response) == baseline


def walk(site, client, host, urlconf=None):
    """Attack every registered changelist of ``site``; return the models walked and any lookup that filtered."""
    walked, leaks = [], []
    for model, model_admin in site._registry.items():
        if not has_changelist(model_admin):
            continue  # nothing listed, nothing to filter (checked by the caller)
        url = changelist_url(site, model, urlconf)
        unfiltered = client.get(url, **host)
        assert unfiltered.status_code == 200, (site.name, model._meta.label, unfiltered.status_code)
        baseline = rows(unfiltered)
        # The parameters the changelist offers as filters (none are known for an admin without strict lookups).
        declared = getattr(model_admin, "filter_parameters", lambda request: frozenset())(unfiltered.wsgi_request)
        for key, value in attack_params(model):
            if key in declared:  # an offered filter may filter; it is not a secret
                continue
            if not refused_or_unfiltered(client, url, host, key, value, baseline):
                leaks.append(f"{model._meta.label}?{key}={value}")
        walked.append(model)
    return walked, leaks


@pytest.fixture
def province_rows(officers, in_danang):
    """A row in the province's main tables, so that a filtering lookup would change the listing."""
    receive(officers["reception"], name="Bùi Thị Hoa")
    ZaloAccount.objects.create(app_id="app-1", oa_id="oa-1", app_secret="app-secret-1", oa_secret_key=SECRET)
    Follower.objects.create(user_id="zalo-user-1", display_name="Hoa")
    return officers


def test_every_registered_admin_has_strict_lookups():
    sites = (admin.site, national_admin_site)
    assert all(isinstance(site, StrictLookupsAdminSite) for site in sites)
    for site in sites:
        assert site._registry, site.name
        for model, model_admin in site._registry.items():
            assert isinstance(model_admin, StrictLookupsAdmin), (site.name, model._meta.label)
    assert check_strict_lookups() == []


def test_an_admin_registered_later_without_the_mixin_is_made_strict():
    site = StrictLookupsAdminSite(name="late")
    site.register(ZaloAccount, admin.ModelAdmin)
    site.register(Follower)
    assert all(isinstance(a, StrictLookupsAdmin) for a in site._registry.values())


def test_secret_fields_cannot_be_filtered_in_any_admin(province_rows, danang):
    # A province site, inside Đà Nẵng, as a superuser of the province (who sees every changelist).
    root = UserFactory(username="sieuquantri", is_superuser=True)
    walked, leaks = walk(admin.site, logged_in(root), PROVINCE)
    assert leaks == []
    # Every admin with a list is walked; the one without (the supplement files: only the review's
    # POST, files are seen on their dossier's page) answers no list at all.
    unlisted = set(admin.site._registry) - set(walked)
    assert unlisted == {SupplementFile} and ZaloAccount in walked
    assert logged_in(root).get("/admin/supplements/supplementfile/", **PROVINCE).status_code == 404

    # The national site, on the public schema, as a national superuser (User has password hashes).
    with schema_context(get_public_schema_name()):
        national = User.objects.create_superuser("quocgia.test", "qg@example.com", "Mat-khau-quoc-gia-1")
        client = logged_in(national, "Mat-khau-quoc-gia-1")
        walked, leaks = walk(national_admin_site, client, NATIONAL, urlconf="egov.urls_public")
        assert leaks == []
        assert set(walked) == set(national_admin_site._registry) and User in walked

    # The attack itself: a province admin guesses the OA secret key's first character.
    province_admin = logged_in(OfficerFactory(role="province_admin", user__username="quantri.test").user)
    url = changelist_url(admin.site, ZaloAccount)
    listing = province_admin.get(url, **PROVINCE)
    assert listing.status_code == 200 and rows(listing)[0] == 1
    right = province_admin.get(url, {"oa_secret_key__regex": f"^{SECRET[0]}"}, **PROVINCE)
    wrong = province_admin.get(url, {"oa_secret_key__regex": "^x"}, **PROVINCE)
    assert (right.status_code, right.get("Location")) == (wrong.status_code, wrong.get("Location"))
    assert right.status_code == 302 and right["Location"].endswith("?e=1")
    for key in ("app_secret__startswith", "access_token__gt", "refresh_token__regex"):
        answer = province_admin.get(url, {key: "a"}, **PROVINCE)
        assert answer.status_code == 302 and answer["Location"].endswith("?e=1"), key


def test_declared_filters_and_search_still_work(province_rows, in_danang):
    client = logged_in(OfficerFactory(role="province_admin", user__username="quantri.test").user)
    url = changelist_url(admin.site, Follower)
    assert rows(client.get(url, {"is_following__exact": "0"}, **PROVINCE))[0] == 1
    assert rows(client.get(url, {"is_following__exact": "1"}, **PROVINCE))[0] == 0
    assert rows(client.get(url, {"q": "zalo-user"}, **PROVINCE))[0] == 1
    assert client.get(url, {"e": "1"}, **PROVINCE).status_code == 200  # Django's own "invalid filter" page
