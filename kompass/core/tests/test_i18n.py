"""Translations: the Norwegian Bokmål catalogue is complete, current and compiled, and requests use it.

The catalogues live in ``kompass/locale`` and both the ``.po`` and the compiled ``.mo`` files are committed,
so the app runs without GNU gettext. Developers refresh them with ``make messages``, which needs gettext.
Tests that need gettext skip without it, unless ``KOMPASS_REQUIRE_GETTEXT=1`` (set in CI) makes them fail.
"""

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # the ``kompass`` package
LOCALE_DIR = PACKAGE_DIR / "locale"
NB_PO = LOCALE_DIR / "nb" / "LC_MESSAGES" / "django.po"
REFRESH_HINT = (
    "Run `make messages` (from the repository root), translate the new entries in "
    "kompass/locale/nb/LC_MESSAGES/django.po into Norwegian Bokmål, and run `make messages` again "
    "to compile the .mo files; commit both .po and .mo files."
)


# --- A small .po parser -----------------------------------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    def describe(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def _unquote(text: str, path: Path, lineno: int) -> str:
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"{path}:{lineno}: expected a quoted string, got {text!r}")

    def replace(match: re.Match) -> str:
        escape = match.group(1)
        if escape in _ESCAPES:
            return _ESCAPES[escape]
        if escape[0] in "01234567":
            return chr(int(escape, 8))
        raise ValueError(f"{path}:{lineno}: unknown escape \\{escape}")

    return re.sub(r"\\([0-7]{1,3}|.)", replace, text[1:-1])


def parse_po(path: Path) -> list[PoEntry]:
    """Parse a .po file into entries (the header, with msgid "", included; obsolete ``#~`` entries left out)."""
    entries: list[PoEntry] = []
    entry = PoEntry()
    field_name: str | None = None  # the keyword a continuation line adds to
    plural_index = 0

    def flush() -> None:
        nonlocal entry, field_name
        if field_name is not None:
            entries.append(entry)
        entry, field_name = PoEntry(), None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if field_name is not None:  # a comment after a message starts the next entry
                flush()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue  # other comments (translator, extracted, reference, previous, obsolete) do not matter here
        match = _KEYWORD.match(line)
        if match:
            keyword, index, quoted = match.groups()
            value = _unquote(quoted, path, lineno)
            if keyword in {"msgctxt", "msgid"} and field_name not in {None, "msgctxt"}:
                flush()  # a new message without a blank line in between
            if not entry.line:
                entry.line = lineno
            if keyword == "msgctxt":
                entry.msgctxt = value
            elif keyword == "msgid":
                entry.msgid = value
            elif keyword == "msgid_plural":
                entry.msgid_plural = value
            elif keyword == "msgstr":
                entry.msgstr = value
            else:
                plural_index = int(index)
                entry.msgstr_plural[plural_index] = value
            field_name = "msgstr_plural" if index is not None else keyword
            continue
        if line.startswith('"'):
            if field_name is None:
                raise ValueError(f"{path}:{lineno}: a string continuation without a keyword before it")
            value = _unquote(line, path, lineno)
            if field_name == "msgstr_plural":
                entry.msgstr_plural[plural_index] += value
            else:
                setattr(entry, field_name, getattr(entry, field_name) + value)
            continue
        raise ValueError(f"{path}:{lineno}: cannot parse {raw!r}")
    flush()
    return entries


def messages(entries: list[PoEntry]) -> list[PoEntry]:
    """The entries without the header."""
    return [entry for entry in entries if entry.key != (None, "")]


def plural_count(entries: list[PoEntry]) -> int:
    header = next(entry for entry in entries if entry.key == (None, ""))
    match = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr)
    assert match, "the catalogue header has no Plural-Forms with nplurals"
    return int(match.group(1))


def test_parser_handles_multiline_context_and_plurals(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: nb\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#, python-format\nmsgctxt "menu"\nmsgid ""\n"Long "\n"text \\"quoted\\"\\n"\nmsgstr "Lang tekst"\n\n'
        '#, fuzzy\nmsgid "%(n)s item"\nmsgid_plural "%(n)s items"\nmsgstr[0] "%(n)s ting"\n'
        'msgstr[1] ""\n"%(n)s "\n"ting"\n'
        'msgid "next"\nmsgstr ""\n\n#~ msgid "old"\n#~ msgstr "gammel"\n',
        encoding="utf-8",
    )
    entries = parse_po(po)
    assert plural_count(entries) == 2
    long, plural, following = messages(entries)
    assert long.key == ("menu", 'Long text "quoted"\n')
    assert long.msgstr == "Lang tekst"
    assert long.flags == {"python-format"}
    assert plural.fuzzy
    assert plural.msgid_plural == "%(n)s items"
    assert plural.msgstr_plural == {0: "%(n)s ting", 1: "%(n)s ting"}
    assert following.msgid == "next"
    assert following.msgstr == ""


# --- The committed catalogue ------------------------------------------------------------------------------------


def test_bokmal_catalogue_is_complete():
    entries = parse_po(NB_PO)
    nplurals = plural_count(entries)
    assert nplurals == 2, "Bokmål has two plural forms: Plural-Forms: nplurals=2; plural=(n != 1);"
    header = next(entry for entry in entries if entry.key == (None, ""))
    assert not header.fuzzy, "the catalogue header is marked fuzzy; remove the flag"
    untranslated, fuzzy = [], []
    for entry in messages(entries):
        if entry.fuzzy:
            fuzzy.append(entry.describe())
        if entry.msgid_plural is None:
            if not entry.msgstr:
                untranslated.append(entry.describe())
        elif sorted(entry.msgstr_plural) != list(range(nplurals)) or not all(entry.msgstr_plural.values()):
            untranslated.append(entry.describe() + " (a plural form is missing or empty)")
    problems = [f"untranslated: {item}" for item in untranslated] + [f"fuzzy: {item}" for item in fuzzy]
    assert not problems, (
        f"{NB_PO.relative_to(PACKAGE_DIR.parent)} is not complete:\n  "
        + "\n  ".join(problems)
        + "\nTranslate each entry and remove `#, fuzzy` once the translation is checked. "
        + REFRESH_HINT
    )


def test_bokmal_catalogue_has_no_duplicates():
    keys = [entry.key for entry in messages(parse_po(NB_PO))]
    duplicates = sorted({key for key in keys if keys.count(key) > 1}, key=str)
    assert not duplicates, f"duplicate entries in the catalogue: {duplicates}"


def require_gettext(program: str) -> str:
    path = shutil.which(program)
    if path:
        return path
    message = f"GNU gettext's `{program}` is not installed (apt-get install gettext)"
    if os.environ.get("KOMPASS_REQUIRE_GETTEXT") == "1":
        pytest.fail(f"{message}, and KOMPASS_REQUIRE_GETTEXT=1 requires it")
    pytest.skip(f"{message}; set KOMPASS_REQUIRE_GETTEXT=1 to make this a failure")


def _copy_ignore(directory: str, names: list[str]) -> set[str]:
    ignored = {name for name in names if name in {"__pycache__", "node_modules"} or name.startswith(".")}
    if Path(directory) == PACKAGE_DIR:
        ignored.add("locale")  # extract into a fresh catalogue, as if from scratch
    if Path(directory) == PACKAGE_DIR / "core" / "static":
        ignored.add("vendor")
    return ignored


def test_bokmal_catalogue_has_every_source_string(tmp_path):
    """Extract strings from a copy of the source as ``make messages`` does; each must be in the catalogue."""
    require_gettext("xgettext")
    require_gettext("msgmerge")
    copy = tmp_path / "kompass"
    shutil.copytree(PACKAGE_DIR, copy, ignore=_copy_ignore)
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "kompass.settings",
        "KOMPASS_ENV": "test",
        "KOMPASS_VAR_DIR": str(tmp_path / "var"),
    }
    # Make sure the copy, not the installed package, is imported: otherwise makemessages would write into the
    # real kompass/locale.
    where = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-c", "import kompass.settings as s; print(s.LOCALE_PATHS[0])"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert where.returncode == 0, f"cannot import the copied settings:\n{where.stderr}"
    assert Path(where.stdout.strip()) == copy / "locale", f"the copy imports the wrong package: {where.stdout}"
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", "django", "makemessages", "-l", "nb", "--no-location", "--ignore", "static/vendor/*"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    extracted_po = copy / "locale" / "nb" / "LC_MESSAGES" / "django.po"
    assert extracted_po.is_file(), f"makemessages wrote no catalogue:\n{result.stdout}\n{result.stderr}"
    extracted = {entry.key: entry for entry in messages(parse_po(extracted_po))}
    assert extracted, "makemessages found no strings at all; is the copy of the source complete?"

    committed = {entry.key: entry for entry in messages(parse_po(NB_PO))}
    missing = sorted(
        (entry.describe().split(": ", 1)[1] for key, entry in extracted.items() if key not in committed),
        key=str.casefold,
    )
    wrong_plural = sorted(
        repr(entry.msgid)
        for key, entry in extracted.items()
        if key in committed and committed[key].msgid_plural != entry.msgid_plural
    )
    assert not missing and not wrong_plural, (
        "The Bokmål catalogue is out of date with the source.\n"
        + (f"Strings missing from the catalogue ({len(missing)}):\n  " + "\n  ".join(missing) + "\n" if missing else "")
        + ("Strings whose plural form changed:\n  " + "\n  ".join(wrong_plural) + "\n" if wrong_plural else "")
        + REFRESH_HINT
    )


@pytest.mark.parametrize("language", ["nb", "en"])
def test_compiled_catalogue_matches_po(language, tmp_path):
    """The committed .mo holds exactly what compiling the committed .po gives (so it is not stale)."""
    msgfmt = require_gettext("msgfmt")
    po = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing. {REFRESH_HINT}"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(po)], check=True, timeout=60)  # noqa: S603
    with mo.open("rb") as committed_file, fresh.open("rb") as fresh_file:
        committed = gettext.GNUTranslations(committed_file)._catalog
        expected = gettext.GNUTranslations(fresh_file)._catalog
    stale = sorted(repr(key) for key in committed.keys() ^ expected.keys())
    stale += sorted(repr(key) for key in committed.keys() & expected.keys() if committed[key] != expected[key])
    assert not stale, f"{mo.relative_to(PACKAGE_DIR.parent)} is stale; differing messages: {stale[:20]}. {REFRESH_HINT}"


def test_committed_catalogue_translates():
    """Django loads the committed catalogue: Bokmål by default, English on request."""
    from django.utils import translation

    with translation.override("nb"):
        assert translation.gettext("Agencies") == "Virksomheter"
        assert translation.ngettext("%(counter)s system", "%(counter)s systems", 1) == "%(counter)s system"
        assert translation.ngettext("%(counter)s system", "%(counter)s systems", 2) == "%(counter)s systemer"
    with translation.override("en"):
        assert translation.gettext("Agencies") == "Agencies"


# --- Requests -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_are_bokmal_by_default_and_english_after_switching(client):
    response = client.get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="nb"' in page
    assert "Logg inn" in page
    assert "Hopp til hovedinnhold" in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302

    response = client.get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="en"' in page
    assert "Log in" in page
    assert "Logg inn" not in page
