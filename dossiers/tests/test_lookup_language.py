"""The citizen's status in the citizen's language: cached answers are filed per language (issue 11.2).

A status link opened first in English must not show English to the next Vietnamese citizen, nor
Vietnamese to the next English reader; a new event drops every language's copy.
"""

import html as html_module
import re

import pytest
from django.test import Client
from django.utils import translation

from dossiers import lookup, services
from dossiers.models import Dossier
from dossiers.tests.factories import receive
from egov import kv

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
VERIFIER = "0905123456"
LANGUAGES = ("vi", "en")


@pytest.fixture
def dossier(reception, specialist, leader, django_capture_on_commit_callbacks):
    """A dossier with a long timeline and a grade: every translated field of the payload is filled."""
    with django_capture_on_commit_callbacks(execute=True):
        dossier = receive(reception, phone=VERIFIER)
        services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
        services.hand_over(dossier, specialist, to_department=leader.department, to_officer=leader)
        services.mark_result_ready(dossier, leader, result="Giấy khai sinh số 12/2026")
    dossier.refresh_from_db()
    assert dossier.grade
    return dossier


def fresh_payload(dossier, language):
    """What the citizen must see in `language`, computed from the database, no cache involved."""
    with translation.override(language):
        return lookup.public_status(Dossier.objects.get(pk=dossier.pk))


def translated_words(dossier):
    """Per language, the translated phrases of the payload that differ between the two languages.

    Status label and explanation, each timeline entry's action, the grade (what the page shows; the
    API's answers are compared whole): each of them in one language must never appear on the other
    language's page.
    """
    payloads = {language: fresh_payload(dossier, language) for language in LANGUAGES}

    def phrases(p):
        yield p["status"]["label"]
        yield p["status"]["explanation"]
        yield p["grade"]
        for entry in p["timeline"]:
            yield entry["action"]

    words = {language: set(phrases(payloads[language])) for language in LANGUAGES}
    shared = words["vi"] & words["en"]
    words = {language: phrases_ - shared for language, phrases_ in words.items()}
    # The test can fail: the two languages really differ on each of these fields.
    assert payloads["vi"]["status"]["label"] != payloads["en"]["status"]["label"]
    assert payloads["vi"]["grade"] != payloads["en"]["grade"]
    assert len(words["en"]) >= 5 and len(words["vi"]) >= 5, words
    return payloads, words


def page_words(language):
    """Words of the page itself (headings, the button) in `language`, from the catalogue."""
    phrases = ["Quá trình xử lý", "Ngày hẹn trả", "Người nộp", "Tra cứu hồ sơ", "Kết quả giải quyết"]
    with translation.override(language):
        return {translation.gettext(p) for p in phrases}


def other(language):
    return "en" if language == "vi" else "vi"


def text_of(html):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))


def get_page(dossier, language):
    response = Client().get(f"/tra-cuu/{dossier.lookup_token}/", HTTP_ACCEPT_LANGUAGE=language, **HOST)
    assert response.status_code == 200
    return text_of(response.content.decode())


def post_form(dossier, language):
    response = Client().post(
        "/tra-cuu/", {"code": dossier.code, "verifier": VERIFIER}, HTTP_ACCEPT_LANGUAGE=language, **HOST
    )
    assert response.status_code == 200
    return text_of(response.content.decode())


def get_api(dossier, language):
    response = Client().get(f"/api/v1/lookup/{dossier.lookup_token}/", HTTP_ACCEPT_LANGUAGE=language, **HOST)
    assert response.status_code == 200
    # A cache between the portal and the reader keeps one answer per language, and says which.
    assert response["Content-Language"] == language and "Accept-Language" in response["Vary"]
    return response.json()


def post_api(dossier, language):
    response = Client().post(
        "/api/v1/lookup/",
        {"code": dossier.code, "verifier": VERIFIER},
        "application/json",
        HTTP_ACCEPT_LANGUAGE=language,
        **HOST,
    )
    assert response.status_code == 200
    return response.json()


def assert_page_in(language, text, words):
    missing = sorted(w for w in words[language] if w not in text)
    assert not missing, f"the {language} page misses its own words: {missing}"
    leaked = sorted(w for w in words[other(language)] if w in text)
    assert not leaked, f"the {language} page shows {other(language)} words: {leaked}"
    leaked = sorted(w for w in page_words(other(language)) - page_words(language) if w in text)
    assert not leaked, f"the {language} page shows {other(language)} page words: {leaked}"


@pytest.mark.parametrize("first", LANGUAGES)
@pytest.mark.parametrize("view", [get_page, post_form])
def test_the_status_page_speaks_the_readers_language_whoever_opened_it_first(dossier, first, view):
    _, words = translated_words(dossier)
    for language in (first, other(language=first), first, other(first)):  # the second round from the cache
        assert_page_in(language, view(dossier, language), words)


@pytest.mark.parametrize("first", LANGUAGES)
@pytest.mark.parametrize("view", [get_api, post_api])
def test_the_api_answers_in_the_readers_language_whoever_asked_first(dossier, first, view):
    payloads, _ = translated_words(dossier)
    for language in (first, other(first), first, other(first)):
        assert view(dossier, language) == payloads[language], language


def test_the_qr_page_and_the_form_share_the_per_language_payload(dossier):
    """The form's answer (code + verifier) after the QR page in another language: still its own language."""
    _, words = translated_words(dossier)
    get_api(dossier, "en")
    get_page(dossier, "en")
    assert_page_in("vi", post_form(dossier, "vi"), words)
    assert post_api(dossier, "vi") == fresh_payload(dossier, "vi")


def test_a_language_the_portal_does_not_speak_is_never_cached(dossier):
    with translation.override("fr"):
        payload = lookup.status_by_token(dossier.lookup_token)
        assert payload is not None
        lookup.cache_rendering(dossier.lookup_token, "html", b"page", lookup.generation(dossier.lookup_token))
        assert lookup.cached_rendering(dossier.lookup_token, "html") is None
    assert lookup.cache_language("fr") is None and lookup.cache_language("en-us") == "en"
    assert cached_keys(dossier) == []


def cached_keys(dossier):
    keys = (k.decode() for k in kv.client().keys(f"*{dossier.lookup_token}*"))
    return sorted(k for k in keys if ":gen:" not in k)  # the generation outlives the copies


def test_a_new_event_drops_every_languages_copy(dossier, reception, django_capture_on_commit_callbacks):
    for language in LANGUAGES:
        get_page(dossier, language)
        get_api(dossier, language)
    keys = cached_keys(dossier)
    # Payload and page and JSON, in both languages.
    for language in LANGUAGES:
        assert sum(f":{language}:" in k for k in keys) == 3, keys
    with django_capture_on_commit_callbacks(execute=True):
        services.return_result(dossier, reception)
    assert cached_keys(dossier) == []
    for language in LANGUAGES:
        assert get_api(dossier, language) == fresh_payload(dossier, language)
        with translation.override(language):
            returned = translation.gettext("Đã trả kết quả")
        assert returned in get_page(dossier, language)


def test_a_new_event_evicts_every_languages_copy_from_process_memory(
    dossier, reception, django_capture_on_commit_callbacks
):
    """The local copy in front of Redis is dropped too, in each language (not only the one last read)."""
    lookup._local.get("warm-up")  # starts the eviction listener
    assert lookup._local._subscribed.wait(10)
    for language in LANGUAGES:
        get_page(dossier, language)
        get_page(dossier, language)  # the second read fills the process's copy from Redis
    local = [key for key in lookup._local._data if dossier.lookup_token in key]
    assert sorted(key.split(":")[-2] for key in local) == sorted(LANGUAGES)
    with django_capture_on_commit_callbacks(execute=True):
        services.return_result(dossier, reception)
    assert not [k for k in local if k in lookup._local._data]
    for language in LANGUAGES:
        with translation.override(language):
            assert translation.gettext("Đã trả kết quả") in get_page(dossier, language)


@pytest.mark.parametrize("first", LANGUAGES)
def test_the_lookup_form_and_its_answers_speak_the_readers_language(dossier, first):
    """The form (heading, labels, button) and its not-found answer, asked in one language then the other."""
    from dossiers.views_public import NOT_FOUND, LookupForm

    def words(language):
        with translation.override(language):
            form = LookupForm()
            return {
                translation.gettext("Tra cứu tình trạng hồ sơ"),
                translation.gettext("Tra cứu"),
                str(form.fields["code"].label),
                str(form.fields["verifier"].label),
                str(NOT_FOUND),
            }

    phrases = {language: words(language) for language in LANGUAGES}
    assert not phrases["vi"] & phrases["en"]
    for language in (first, other(first)):
        blank = text_of(Client().get("/tra-cuu/", HTTP_ACCEPT_LANGUAGE=language, **HOST).content.decode())
        wrong = Client().post(
            "/tra-cuu/", {"code": dossier.code, "verifier": "0999999999"}, HTTP_ACCEPT_LANGUAGE=language, **HOST
        )
        assert wrong.status_code == 404
        text = blank + text_of(wrong.content.decode())
        assert not [w for w in phrases[language] if w not in text], language
        assert not [w for w in phrases[other(language)] if w in text], language
