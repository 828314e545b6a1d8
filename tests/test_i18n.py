"""French in the source, English through Django i18n: the catalog is complete, compiled, used."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from passes.models import Scan

BASE_DIR = Path(settings.BASE_DIR)
EN_DIR = BASE_DIR / "locale" / "en" / "LC_MESSAGES"
PO_PATH = EN_DIR / "django.po"
MO_PATH = EN_DIR / "django.mo"

# Where makemessages looks (README: --ignore=.venv --ignore=benchmarks --ignore=tests).
NOT_SCANNED = {".venv", "benchmarks", "tests", "var", "locale", "node_modules"}
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}

CLOSED_FR = "Le lieu ou la ressource est fermé ce jour-là."
CLOSED_EN = "The space or the resource is closed on that day."


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language and leaves it active afterwards."""
    with translation.override(translation.get_language()):
        yield


# --- Reading the .po with the standard library -----------------------------------------------


@dataclass
class Entry:
    """One message of a .po file; `fields` maps msgctxt/msgid/msgid_plural/msgstr[N] to text."""

    line: int = 0
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str | None:
        return self.fields.get("msgid")

    @property
    def msgid_plural(self) -> str | None:
        return self.fields.get("msgid_plural")

    @property
    def msgctxt(self) -> str | None:
        return self.fields.get("msgctxt")

    @property
    def msgstr(self) -> dict[int, str]:
        return {
            int(key[7:-1]): text for key, text in self.fields.items() if key.startswith("msgstr[")
        }


KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$")


def read_po(path: Path) -> list[Entry]:
    """Every active entry (obsolete `#~` ones are skipped), the header included (msgid "")."""
    entries: list[Entry] = []
    entry, current = Entry(), None

    def flush() -> None:
        nonlocal entry, current
        if entry.msgid is not None:
            entries.append(entry)
        entry, current = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                flush()
            continue
        if line.startswith("#"):
            if entry.msgid is not None:
                flush()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif match := KEYWORD.match(line):
            keyword = "msgstr[0]" if match.group(1) == "msgstr" else match.group(1)
            if keyword in ("msgctxt", "msgid") and entry.msgid is not None:
                flush()
            if keyword == "msgid":
                entry.line = number
            current = keyword
            entry.fields[current] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and current is not None:
            entry.fields[current] += ast.literal_eval(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    flush()
    return entries


def messages(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if entry.msgid]  # without the header


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return read_po(PO_PATH)


# --- (a) The English catalog is complete -----------------------------------------------------


def test_every_message_has_an_english_translation(po_entries):
    entries = messages(po_entries)
    assert len(entries) > 100  # sanity: the parser read the catalog

    missing = [
        f"line {entry.line}: {entry.msgid!r}"
        for entry in entries
        if not entry.msgstr or any(not text.strip() for text in entry.msgstr.values())
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_no_entry_is_fuzzy(po_entries):
    fuzzy = [
        f"line {entry.line}: {entry.msgid!r}" for entry in po_entries if "fuzzy" in entry.flags
    ]
    assert not fuzzy, "fuzzy (msgfmt leaves them out):\n" + "\n".join(fuzzy)


def test_plural_messages_have_both_english_forms(po_entries):
    plurals = [entry for entry in messages(po_entries) if entry.msgid_plural]

    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr) == [0, 1], entry.msgid


def test_translations_keep_the_placeholders(po_entries):
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for entry in messages(po_entries):
        if "python-format" not in entry.flags:
            continue
        expected = sorted(placeholder.findall(entry.msgid))
        for text in entry.msgstr.values():
            assert sorted(placeholder.findall(text)) == expected, entry.msgid


def _marked_strings() -> dict[str, str]:
    """msgid -> first place, for every literal passed to a gettext function in the source."""
    found: dict[str, str] = {}
    for path in sorted(BASE_DIR.rglob("*.py")):
        relative = path.relative_to(BASE_DIR)
        if relative.parts[0] in NOT_SCANNED or any(p.startswith(".") for p in relative.parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(relative))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if (
                name in GETTEXT_CALLS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value
            ):
                found.setdefault(first.value, f"{relative}:{node.lineno}")
    return found


def test_every_marked_string_of_the_source_is_in_the_catalog(po_entries):
    catalog = {entry.msgid for entry in messages(po_entries)}

    missing = {msgid: where for msgid, where in _marked_strings().items() if msgid not in catalog}

    assert not missing, "run makemessages (README, Translations), then translate:\n" + "\n".join(
        f"{where}: {msgid!r}" for msgid, where in sorted(missing.items())
    )


# --- (b) The committed .mo is the compiled .po -----------------------------------------------


def test_the_compiled_catalog_matches_the_po(po_entries):
    with MO_PATH.open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)._catalog

    expected: dict = {}
    for entry in messages(po_entries):
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural:
            for index, text in entry.msgstr.items():
                expected[(key, index)] = text
        else:
            expected[key] = entry.msgstr[0]
    compiled = {key: text for key, text in compiled.items() if key != ""}  # without the header

    stale = sorted(str(key) for key in expected.keys() ^ compiled.keys())
    changed = sorted(
        str(key) for key in expected.keys() & compiled.keys() if expected[key] != compiled[key]
    )
    assert not stale and not changed, (
        "django.mo is out of date: run compilemessages (README, Translations)\n"
        f"added/removed: {stale}\nchanged: {changed}"
    )


# --- (c) The API answers in the request's language -------------------------------------------


def _book_on_saturday(api, member, room, **headers):
    return api.as_(member).post(
        "/api/v1/bookings/",
        {
            "resource": room.pk,
            "start": "2026-12-05T10:00:00+01:00",
            "end": "2026-12-05T11:00:00+01:00",
        },
        **headers,
    )


@pytest.mark.django_db
def test_a_booking_refusal_is_in_french_by_default(clock, api, alice, room):
    response = _book_on_saturday(api, alice, room)

    assert response.status_code == 400
    assert response.json()["code"] == "closed"
    assert response.json()["detail"] == CLOSED_FR
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_a_booking_refusal_is_in_english_with_accept_language_en(clock, api, alice, room):
    response = _book_on_saturday(api, alice, room, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["code"] == "closed"  # codes never change with the language
    assert response.json()["detail"] == CLOSED_EN
    assert response["Content-Language"] == "en"


# --- (d) Model labels ------------------------------------------------------------------------


def test_a_scan_refusal_reason_is_translated():
    with translation.override("fr"):
        assert str(Scan.Reason.HOST_FULL.label) == (
            "Le lieu a atteint sa capacité de visiteurs pour aujourd'hui."
        )
    with translation.override("en"):
        assert str(Scan.Reason.HOST_FULL.label) == (
            "The space has reached its visitor capacity for today."
        )
        assert str(Scan.Reason.STALE_CODE.label) == (
            "Outdated code, or already used elsewhere (screenshot?)."
        )


# --- (e) The admin -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_page_is_in_french_by_default(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "Adresse e-mail" in html


@pytest.mark.django_db
def test_the_admin_login_page_is_in_english_with_accept_language_en(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "ch&#x27;tipass — administration" in html or "ch'tipass — administration" in html
    assert "Email address" in html  # our Member.email label
    assert 'value="Log in"' in html  # Django's own catalog
    assert "Adresse e-mail" not in html
