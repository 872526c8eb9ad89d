"""The example workflows: each UI-format workflow and its API twin describe the same graph."""

import json
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
UI_WORKFLOWS = sorted(WORKFLOWS.glob("*.json"))


def _load(path):
    return json.loads(path.read_text())


def test_every_ui_workflow_has_an_api_twin_and_back():
    assert UI_WORKFLOWS, "no example workflows"
    assert {p.name for p in UI_WORKFLOWS} == {p.name for p in (WORKFLOWS / "api").glob("*.json")}


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_links_are_consistent(path):
    ui = _load(path)
    links = {link[0]: link for link in ui["links"]}
    nodes = {node["id"]: node for node in ui["nodes"]}
    assert ui["last_node_id"] == max(nodes) and ui["last_link_id"] == max(links)
    for link_id, origin, origin_slot, target, target_slot, kind in links.values():
        assert link_id in nodes[origin]["outputs"][origin_slot]["links"]
        target_input = nodes[target]["inputs"][target_slot]
        assert target_input["link"] == link_id and target_input["type"] == kind
    for node in nodes.values():
        assert all(entry["link"] in links for entry in node["inputs"] if entry["link"] is not None)


@pytest.mark.parametrize("path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_and_api_describe_the_same_graph(path):
    ui, api = _load(path), _load(WORKFLOWS / "api" / path.name)
    nodes = {str(node["id"]): node for node in ui["nodes"]}
    assert {key: node["type"] for key, node in nodes.items()} == {key: node["class_type"] for key, node in api.items()}
    links = {link[0]: link for link in ui["links"]}
    for key, node in api.items():
        ui_inputs = {entry["name"]: links[entry["link"]] for entry in nodes[key]["inputs"] if entry["link"]}
        api_links = {name: value for name, value in node["inputs"].items() if isinstance(value, list)}
        assert {name: [str(link[1]), link[2]] for name, link in ui_inputs.items()} == api_links, key
        widget_values = [value for value in node["inputs"].values() if not isinstance(value, list)]
        remaining = iter(nodes[key]["widgets_values"])
        assert all(any(value == widget for widget in remaining) for value in widget_values), key
