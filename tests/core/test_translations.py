"""Both catalogs cover every string the code and templates use (the Chinese page shows Chinese)."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def _catalog(locale: str):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_catalog_translates_every_string_in_the_source(locale):
    catalog = _catalog(locale)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,)) and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"{len(missing)} strings missing from {locale}: {missing[:10]}"


def test_chinese_catalog_is_identity():
    wrong = [m.id for m in _catalog("zh_Hans_CN") if m.id and isinstance(m.id, str) and m.string != m.id]
    assert wrong == []
