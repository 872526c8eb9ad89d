"""locales/en, the English source of the pack's translations, from the nodes' own schemas.

    COMFYUI_PATH=~/ComfyUI ~/ComfyUI/venv/bin/python tools/make_locale_en.py

Loads ComfyUI and this pack in process (on the CPU) and writes what ComfyUI's /i18n serves to the frontend, keyed
as the frontend looks texts up: locales/en/nodeDefs.json (per node: display_name, description, inputs.<input>.name
and .tooltip, outputs.<index>.name and .tooltip) and, in locales/en/main.json, the pack's node categories and the
data types it adds to ComfyUI's. main.json's other entries (the schedule chart's texts) are written by hand and kept.
tests/test_locales.py checks every other locale translates every key; tests/comfyui checks this file against the
live schemas.
"""

import asyncio
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
# The frontend's label of the widget ComfyUI adds after a seed input, which it looks up among the node's inputs.
CONTROL_AFTER_GENERATE = {"control_after_generate": {"name": "control after generate"}}


def _i18n_key(name: str) -> str:
    """The frontend's normalizeI18nKey: a dot would nest the key."""
    return name.replace(".", "_")


def _inputs(info: dict) -> dict:
    specs = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
    order = info["input_order"].get("required", []) + info["input_order"].get("optional", [])
    inputs = {}
    for name in order:
        options = specs[name][1] if len(specs[name]) > 1 else {}
        inputs[_i18n_key(name)] = {"name": options.get("display_name", name)} | (
            {"tooltip": options["tooltip"]} if options.get("tooltip") else {})
    if any(len(spec) > 1 and spec[1].get("control_after_generate") for spec in specs.values()):
        inputs |= CONTROL_AFTER_GENERATE
    return inputs


def _outputs(info: dict) -> dict:
    """Per output index its name (unless it is only the data type's, which the frontend translates itself) and
    tooltip."""
    outputs = {}
    for index, (kind, name, tooltip) in enumerate(zip(info["output"], info["output_name"],
                                                       info.get("output_tooltips") or [None] * len(info["output"]),
                                                       strict=True)):
        entry = ({"name": name} if name != kind else {}) | ({"tooltip": tooltip} if tooltip else {})
        if entry:
            outputs[str(index)] = entry
    return outputs


def node_definitions(infos: list[dict]) -> dict:
    """nodeDefs.json from the nodes' /object_info entries."""
    definitions = {}
    for info in sorted(infos, key=lambda info: info["name"]):
        entry = {"display_name": info["display_name"] or info["name"]}
        if info.get("description"):
            entry["description"] = info["description"]
        if inputs := _inputs(info):
            entry["inputs"] = inputs
        if outputs := _outputs(info):
            entry["outputs"] = outputs
        definitions[_i18n_key(info["name"])] = entry
    return definitions


def _types(info: dict) -> set[str]:
    specs = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
    return {spec[0] for spec in specs.values() if isinstance(spec[0], str)} | set(info["output"])


def added_names(pack_infos: list[dict], other_infos: list[dict]) -> dict:
    """main.json's nodeCategories and dataTypes: every part of the pack's categories (ComfyUI 0.33 no longer files
    its own nodes under "inpaint", and newer frontends no longer translate it), and the data types of the pack
    that no other node has (the others are ComfyUI's, which the frontend translates itself)."""
    types = set().union(*(_types(info) for info in other_infos))
    pack_categories = {part for info in pack_infos for part in info["category"].split("/")}
    pack_types = set().union(*(_types(info) for info in pack_infos)) - types
    return {"nodeCategories": {_i18n_key(part): part for part in sorted(pack_categories)},
            "dataTypes": {_i18n_key(kind): kind for kind in sorted(pack_types)}}


def comfyui_node_infos(comfyui: Path) -> tuple[list[dict], list[dict]]:
    """(the pack's nodes, all other nodes) as /object_info describes them, from ComfyUI loaded in this process."""
    sys.path.insert(0, str(comfyui))
    from comfy.cli_args import args

    args.cpu = True
    import nodes

    asyncio.run(nodes.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False))
    before = set(nodes.NODE_CLASS_MAPPINGS)
    if not asyncio.run(nodes.load_custom_node(str(ROOT))):
        raise SystemExit("the pack failed to load; see the log above")
    infos = {name: _node_info(node_class) for name, node_class in nodes.NODE_CLASS_MAPPINGS.items()}
    return ([info for name, info in infos.items() if name not in before],
            [info for name, info in infos.items() if name in before])


def _node_info(node_class) -> dict:
    """A node's /object_info entry; of a V1 node only what added_names reads."""
    if hasattr(node_class, "GET_NODE_INFO_V1"):
        return node_class.GET_NODE_INFO_V1()
    return {"input": node_class.INPUT_TYPES(), "output": list(node_class.RETURN_TYPES),
            "category": getattr(node_class, "CATEGORY", "sd")}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    comfyui = os.environ.get("COMFYUI_PATH")
    if not comfyui:
        raise SystemExit(__doc__)
    pack, others = comfyui_node_infos(Path(comfyui).expanduser().resolve())
    _write_json(LOCALES / "en" / "nodeDefs.json", node_definitions(pack))
    main_path = LOCALES / "en" / "main.json"
    kept = json.loads(main_path.read_text(encoding="utf-8")) if main_path.is_file() else {}
    _write_json(main_path, kept | added_names(pack, others))


if __name__ == "__main__":
    main()
