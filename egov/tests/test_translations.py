"""Both languages complete (issue 11.2/11.4): `make messages` leaves no empty English translation.

Our msgids are Vietnamese, so the only catalogue extracted from our code is English (locale/en).
Vietnamese for Django's and the login libraries' own English is hand-written in locale_django/vi.
The compiled .mo files are committed (a fresh clone serves translations without gettext tools),
so they must say what their .po files say.
"""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
CATALOGUES = [BASE / "locale/en/LC_MESSAGES/django.po", *sorted((BASE / "locale_django").glob("*/LC_MESSAGES/*.po"))]
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "var", "staticfiles", "test-output", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"
)


def entries(path):
    """(msgctxt, msgid, msgstrs, flags) of each entry of a .po file, the header and obsolete entries left out."""
    found, current, key = [], None, None

    def flush():
        if current and current["id"]:
            found.append(current)

    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            current, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = {"ctxt": None, "id": "", "str": [], "flags": ""}
        if line.startswith("#,"):
            current["flags"] += line
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
        if match:
            keyword, value = match.group(1), ast.literal_eval(match.group(2))
            if keyword.startswith("msgstr"):
                current["str"].append(value)
                key = "str"
            else:
                key = {"msgctxt": "ctxt", "msgid": "id", "msgid_plural": "plural"}[keyword]
                current[key] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "str":
                current["str"][-1] += value
            else:
                current[key] = (current[key] or "") + value
    return found


def untranslated(path):
    return [
        (e["id"], "fuzzy" if "fuzzy" in e["flags"] else "empty")
        for e in entries(path)
        if "fuzzy" in e["flags"] or not e["str"] or not all(e["str"])
    ]


def make_messages_command():
    """The makemessages line of the Makefile's `messages` target, runnable here."""
    makefile = (BASE / "Makefile").read_text()
    target = re.search(r"^messages:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "Makefile has no messages target"
    line = next(cmd for cmd in target.group(1).splitlines() if "makemessages" in cmd)
    args = line.strip().replace("$(BIN)/python", sys.executable).replace("$(VENV)", ".venv").split()
    assert args[1:3] == ["manage.py", "makemessages"], args
    return args


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(BASE)))
def test_every_catalogue_entry_is_translated_and_none_is_fuzzy(catalogue):
    assert entries(catalogue), catalogue
    missing = untranslated(catalogue)
    assert not missing, f"{catalogue}: {len(missing)} untranslated: {missing[:20]}"


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(BASE)))
def test_the_committed_mo_says_what_its_po_says(catalogue, tmp_path):
    """A fresh clone uses the committed .mo: it must be the compiled .po, not an older one."""
    compiled = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(catalogue)], check=True)
    committed = catalogue.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run make messages"
    with compiled.open("rb") as fresh, committed.open("rb") as old:
        fresh_catalog = gettext.GNUTranslations(fresh)._catalog
        old_catalog = gettext.GNUTranslations(old)._catalog
    stale = sorted(str(k) for k in fresh_catalog.keys() ^ old_catalog.keys())
    stale += sorted(str(k) for k in fresh_catalog.keys() & old_catalog.keys() if fresh_catalog[k] != old_catalog[k])
    assert not stale, f"{committed} is stale (run make messages): {stale[:10]}"


def test_make_messages_leaves_no_empty_translation(tmp_path):
    """makemessages (the Makefile's own command) on a copy of the tree finds no msgid the English
    catalogue lacks or leaves empty, and makes no Vietnamese catalogue of our Vietnamese msgids."""
    copy = tmp_path / "tree"
    shutil.copytree(BASE, copy, ignore=COPY_IGNORE)
    (copy / ".venv").symlink_to(BASE / ".venv")  # ignored by the command, as in the real tree
    result = subprocess.run(make_messages_command(), cwd=copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    english = copy / "locale/en/LC_MESSAGES/django.po"
    missing = untranslated(english)
    assert not missing, (
        f"make messages leaves {len(missing)} English translation(s) empty or fuzzy; translate them in "
        f"locale/en/LC_MESSAGES/django.po:\n" + "\n".join(f"  [{how}] {msgid!r}" for msgid, how in missing[:40])
    )
    assert not (copy / "locale/vi").exists(), "a vi catalogue of our own (Vietnamese) msgids was generated"
    # The catalogue really was re-extracted: every msgid the repository's catalogue has that the code
    # still uses is there, and the strings the code marks are found (a string from a template and one from Python).
    ids = {e["id"] for e in entries(english)}
    assert {"Tra cứu hồ sơ", "Được tiếp nhận"} <= ids


def test_the_admin_scripts_speak_vietnamese():
    """The admin's JavaScript (calendar, clock, the two-box permission chooser) reads its words from
    the djangojs catalogue: every word it has is Vietnamese in `vi` (Django's own vi catalogue lacks some)."""
    import json

    import django
    from django.test import RequestFactory
    from django.utils import translation
    from django.views.i18n import JSONCatalog

    source = Path(django.__file__).parent / "contrib/admin/locale/en/LC_MESSAGES/djangojs.po"
    wanted = {(e["ctxt"], e["id"]) for e in entries(source)}
    with translation.override("vi"):
        response = JSONCatalog.as_view(packages=["django.contrib.admin"])(RequestFactory().get("/"))
    catalog = json.loads(response.content)["catalog"]
    have = {tuple(key.split("\x04", 1)) if "\x04" in key else (None, key) for key, value in catalog.items() if value}
    missing = sorted(f"{ctxt}|{msgid}" if ctxt else msgid for ctxt, msgid in wanted - have)
    assert not missing, f"admin JavaScript words without Vietnamese: {missing}"
