"""Write the UI-format twin of an API-format workflow, using a running ComfyUI's /object_info.

    python tools/api_to_ui_workflow.py http://127.0.0.1:8188 workflows/api/NAME.json workflows/NAME.json

Widget values follow each node's input order (with the extra widget values the frontend keeps for seeds and
image uploads); nodes are laid out in columns by their depth in the graph. tests/test_workflows.py checks
that the two files describe the same graph.
"""

import json
import sys
import urllib.request
import uuid

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
# The gap between two nodes of a column holds the lower one's title bar (30) and room for a node to grow in a newer
# ComfyUI (0.33's Get Video Components has two more outputs than 0.8's, the oldest supported, which writes these).
COLUMN_WIDTH, ROW_GAP = 380, 80
# How the frontend sizes a node: a row per socket (inputs and outputs side by side, every optional input's socket
# shown), then a row per widget, and some padding.
SLOT_HEIGHT, WIDGET_HEIGHT, PADDING = 20, 24, 14
# Room for what the frontend draws beyond the rows: image and video previews (a square video fills the node's
# width), text boxes, the schedule chart.
IMAGE_PREVIEW_HEIGHT, VIDEO_PREVIEW_HEIGHT, TEXT_BOX_HEIGHT, CHART_HEIGHT = 260, 340, 80, 170


def _is_widget(spec) -> bool:
    return isinstance(spec[0], list) or spec[0] in WIDGET_TYPES


def _node_inputs(node_id, node, info, links):
    """The UI inputs (links) and widget values of one API node; appends its incoming links."""
    required, optional = info["input"].get("required", {}), info["input"].get("optional", {})
    inputs, widgets = [], []
    for name in info["input_order"].get("required", []) + info["input_order"].get("optional", []):
        spec, value = {**required, **optional}[name], node["inputs"].get(name)
        if _is_widget(spec):
            options = spec[1] if len(spec) > 1 else {}  # a plain list of choices has no options
            if value is None:  # an optional widget left out: the frontend still shows it, at its default
                value = options.get("default", spec[0][0] if isinstance(spec[0], list) else None)
            widgets.append(value)
            if options.get("control_after_generate"):
                widgets.append("fixed")
            if options.get("image_upload") or options.get("video_upload"):  # the upload button's value
                widgets.append("image")
        elif isinstance(value, list):
            links.append([len(links) + 1, int(value[0]), value[1], int(node_id), len(inputs), spec[0]])
            inputs.append({"name": name, "type": spec[0], "link": len(links)})
        elif name in required:
            inputs.append({"name": name, "type": spec[0], "link": None})
    return inputs, widgets


def _height(class_type: str, info: dict, widgets: list) -> int:
    specs = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
    options = [spec[1] for spec in specs.values() if len(spec) > 1]
    sockets = sum(1 for spec in specs.values() if not _is_widget(spec))
    shows_video = any(option.get("video_upload") for option in options)
    shows_image = info.get("output_node") or any(option.get("image_upload") for option in options)
    previews = VIDEO_PREVIEW_HEIGHT if shows_video else IMAGE_PREVIEW_HEIGHT if shows_image else 0
    text_boxes = sum(1 for option in options if option.get("multiline"))
    return (PADDING + SLOT_HEIGHT * max(sockets, len(info["output"])) + WIDGET_HEIGHT * len(widgets) + previews
            + TEXT_BOX_HEIGHT * text_boxes + (CHART_HEIGHT if class_type == "SoftMaskSchedule" else 0))


def _depths(api):
    depth = {}

    def visit(node_id):
        if node_id not in depth:
            sources = [v[0] for v in api[node_id]["inputs"].values() if isinstance(v, list)]
            depth[node_id] = 1 + max((visit(source) for source in sources), default=-1)
        return depth[node_id]

    for node_id in api:
        visit(node_id)
    return depth


def convert(api: dict, object_info: dict) -> dict:
    links, nodes = [], []
    depth = _depths(api)
    column_heights = {}
    for node_id in sorted(api, key=lambda key: (depth[key], int(key))):
        node = api[node_id]
        info = object_info[node["class_type"]]
        inputs, widgets = _node_inputs(node_id, node, info, links)
        height = _height(node["class_type"], info, widgets)
        top = column_heights.get(depth[node_id], 0)
        column_heights[depth[node_id]] = top + height + ROW_GAP
        entry = {"id": int(node_id), "type": node["class_type"], "pos": [depth[node_id] * COLUMN_WIDTH, top],
                 "size": [340, height], "flags": {}, "order": len(nodes), "mode": 0, "inputs": inputs,
                 "outputs": [], "properties": {"Node name for S&R": node["class_type"]}, "widgets_values": widgets}
        title = node.get("_meta", {}).get("title")
        if title and title not in (node["class_type"], info.get("display_name")):
            entry["title"] = title
        nodes.append(entry)
    for entry in nodes:
        info = object_info[entry["type"]]
        entry["outputs"] = [
            {"name": name, "type": kind, "slot_index": slot,
             "links": [link[0] for link in links if link[1] == entry["id"] and link[2] == slot]}
            for slot, (name, kind) in enumerate(zip(info["output_name"], info["output"], strict=True))
        ]
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(api, sort_keys=True))), "revision": 0,
            "last_node_id": max(int(key) for key in api), "last_link_id": len(links), "nodes": nodes,
            "links": links, "groups": [], "config": {}, "extra": {"ds": {"scale": 0.8, "offset": [40, 40]}},
            "version": 0.4}


def main(server: str, api_path: str, ui_path: str) -> None:
    with urllib.request.urlopen(f"{server}/object_info", timeout=60) as response:
        object_info = json.load(response)
    with open(api_path) as file:
        api = json.load(file)
    with open(ui_path, "w") as file:
        json.dump(convert(api, object_info), file, indent=1)
        file.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
