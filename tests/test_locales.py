"""locales/: every locale translates every English text the frontend looks up, in a form it can show.

locales/en is made from the nodes' schemas by tools/make_locale_en.py (tests/comfyui checks it against them);
ComfyUI merges each locales/<lang>/main.json and nodeDefs.json into what its /i18n serves the frontend.
"""

import json
import re
from pathlib import Path

import pytest

LOCALES = Path(__file__).resolve().parent.parent / "locales"
REQUIRED = {"zh", "ja", "ko", "fr", "es", "ru"}
TRANSLATIONS = sorted(path.name for path in LOCALES.iterdir() if path.is_dir() and path.name != "en")
FILES = ("main.json", "nodeDefs.json")
PLACEHOLDER = re.compile(r"\{\w+\}")
# Characters with a meaning in the frontend's vue-i18n messages (linked messages, plurals, literals).
MESSAGE_SYNTAX = re.compile(r"[{}@|$]")


def _texts(path: Path) -> dict[str, str]:
    """Every text of a locale file by its dotted key."""

    def walk(value, key):
        if isinstance(value, dict):
            for name, inner in value.items():
                yield from walk(inner, f"{key}.{name}" if key else name)
        else:
            yield key, value

    return dict(walk(json.loads(path.read_text(encoding="utf-8")), ""))


def test_the_required_locales_are_there():
    assert REQUIRED <= set(TRANSLATIONS)


@pytest.mark.parametrize("file", FILES)
def test_english_texts_are_plain_messages(file):
    for key, text in _texts(LOCALES / "en" / file).items():
        assert isinstance(text, str) and text.strip(), f"en/{file}: {key} is empty"
        assert not MESSAGE_SYNTAX.search(PLACEHOLDER.sub("", text)), f"en/{file}: {key} has message syntax: {text}"


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_every_english_key_is_translated(locale, file):
    english, translated = _texts(LOCALES / "en" / file), _texts(LOCALES / locale / file)
    assert not (missing := sorted(set(english) - set(translated))), f"{locale}/{file} lacks {missing}"
    assert not (extra := sorted(set(translated) - set(english))), f"{locale}/{file} has keys English lacks: {extra}"
    for key, text in translated.items():
        assert isinstance(text, str) and text.strip(), f"{locale}/{file}: {key} is empty"
        assert PLACEHOLDER.findall(text) == PLACEHOLDER.findall(english[key]), f"{locale}/{file}: {key} placeholders"
        assert not MESSAGE_SYNTAX.search(PLACEHOLDER.sub("", text)), f"{locale}/{file}: {key} has message syntax"


@pytest.mark.parametrize("locale", TRANSLATIONS)
def test_names_and_sentences_are_translated_not_copied(locale):
    """Node names, descriptions and tooltips differ from the English (input names may not: cfg, vae)."""
    english, translated = _texts(LOCALES / "en" / "nodeDefs.json"), _texts(LOCALES / locale / "nodeDefs.json")
    copied = [key for key, text in translated.items()
              if key.endswith((".display_name", ".description", ".tooltip")) and text == english[key]]
    assert not copied, f"{locale}: left in English: {copied}"
