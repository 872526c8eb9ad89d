"""Every node has a help page whose pictures exist; web/ holds just the one frontend extension."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_IDS = sorted(set(re.findall(r'node_id="(\w+)"', "".join(p.read_text() for p in (ROOT / "nodes").glob("*.py")))))


def test_node_ids_found():
    assert len(NODE_IDS) == 9


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_help_page_with_existing_pictures(node_id):
    page = ROOT / "web" / "docs" / f"{node_id}.md"
    assert page.is_file(), f"no help page for {node_id}"
    text = page.read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert pictures, f"{page.name} has no picture"
    for picture in pictures:
        assert (page.parent / picture).is_file(), f"{page.name}: missing {picture}"


def test_readme_pictures_exist():
    for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "README.md").read_text()):
        assert (ROOT / picture).is_file(), f"README: missing {picture}"


def test_web_holds_only_the_extension_script():
    scripts = sorted(str(p.relative_to(ROOT / "web")) for p in (ROOT / "web").rglob("*.js"))
    assert scripts == ["soft_inpainting.js"]
