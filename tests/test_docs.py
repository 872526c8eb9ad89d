"""Every node has a help page, in every locale of locales/, whose pictures exist; web/ holds just the one
frontend extension.

The frontend asks a custom node for docs/<node>/<locale>.md first (logging a 404 when there is none) and then
for docs/<node>.md, and resolves the pictures of either against docs/.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "web" / "docs"
NODE_IDS = sorted(set(re.findall(r'node_id="(\w+)"', "".join(p.read_text() for p in (ROOT / "nodes").glob("*.py")))))
LOCALES = sorted(path.name for path in (ROOT / "locales").iterdir() if path.is_dir())
PICTURE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def _node_texts(locale: str, node_id: str) -> dict:
    return json.loads((ROOT / "locales" / locale / "nodeDefs.json").read_text(encoding="utf-8"))[node_id]


def test_node_ids_found():
    assert len(NODE_IDS) == 9


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_help_page_with_existing_pictures(node_id):
    page = DOCS / f"{node_id}.md"
    assert page.is_file(), f"no help page for {node_id}"
    pictures = PICTURE.findall(page.read_text(encoding="utf-8"))
    assert pictures, f"{page.name} has no picture"
    for picture in pictures:
        assert (DOCS / picture).is_file(), f"{page.name}: missing {picture}"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("node_id", NODE_IDS)
def test_help_page_in_every_locale(node_id, locale):
    """English is docs/<node>.md itself; a translation has the node's translated name as its title, the same
    sections and pictures, and names each input as the editor labels it in that language, with its id."""
    english = (DOCS / f"{node_id}.md").read_text(encoding="utf-8")
    page = DOCS / node_id / f"{locale}.md"
    assert page.is_file(), f"no {locale} help page for {node_id}"
    text = page.read_text(encoding="utf-8")
    texts = _node_texts(locale, node_id)
    assert text.splitlines()[0] == f"# {texts['display_name']}"
    inputs = [name for name in _node_texts("en", node_id)["inputs"] if name != "control_after_generate"]
    if locale == "en":
        assert text == english, f"{page.relative_to(ROOT)} differs from {node_id}.md"
        assert all(re.search(rf"\b{name}\b", text) for name in inputs), f"{node_id}.md misses an input"
        return
    assert text != english
    assert PICTURE.findall(text) == PICTURE.findall(english), f"{page.relative_to(ROOT)}: not the English pictures"
    assert re.findall(r"^#+ ", text, re.M) == re.findall(r"^#+ ", english, re.M), f"{page.relative_to(ROOT)}: sections"
    for name in inputs:
        label = texts["inputs"][name]["name"]
        assert f"`{name}`" in text and label in text, f"{page.relative_to(ROOT)}: input {name} ({label}) not named"


def test_readme_pictures_exist():
    for picture in PICTURE.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        assert (ROOT / picture).is_file(), f"README: missing {picture}"


def test_web_holds_only_the_extension_script():
    scripts = sorted(str(p.relative_to(ROOT / "web")) for p in (ROOT / "web").rglob("*.js"))
    assert scripts == ["soft_inpainting.js"]
