"""Write the "Soft Inpaint" subgraph blueprint, subgraphs/Soft Inpaint.json, from the SD1.5 example workflow.

    <ComfyUI's python> tools/make_blueprint.py http://127.0.0.1:8188

The server must run this pack; use the oldest supported ComfyUI (0.8), whose editor's format the newer ones read.
The editor itself turns the workflow's soft-inpainting nodes into a subgraph (its Convert to Subgraph), so the
file is in its own format. ComfyUI lists every subgraphs/*.json of a custom node pack as a blueprint: one node
taking the model, the two conditionings, the VAE, the picture and its mask, giving the composited picture and its
compositing mask. Needs Playwright and Debian's Chromium, as tests/comfyui/test_browser.py does.
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINT = ROOT / "subgraphs" / "Soft Inpaint.json"
NAME = "Soft Inpaint"
DESCRIPTION = ("A1111's soft inpainting in one node: mask blur, soft-blending sampler, VAE decode and the adaptive "
               "difference composite, which brings the original pixels back wherever the picture did not change.")
SEARCH_ALIASES = ["soft inpaint", "soft inpainting", "A1111 inpaint", "inpaint"]
CATEGORY = "inpaint/soft inpainting"
# The example workflow's nodes that go into the subgraph, in the order their outside inputs should come in
# (sampler: model, positive, negative; VAE Encode: picture, VAE; Mask Prep: mask), and the widgets the node shows.
SAMPLER, ENCODE, MASK_PREP, SCHEDULE, DECODE, COMPOSITE = 8, 7, 5, 6, 9, 10
SHOWN_WIDGETS = [[str(SAMPLER), name] for name in ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise")] + [
    [str(MASK_PREP), name] for name in ("blur_x", "blur_y")]

CONVERT = """([ids, shown, name]) => {
    const byId = (id) => app.graph.nodes.find((n) => String(n.id) === String(id));
    // A consumer of the composite's mask while converting, so that the subgraph gives that output too.
    const sink = LiteGraph.createNode("MaskToImage");
    app.graph.add(sink);
    byId(ids.at(-1)).connect(1, sink, 0);
    const { subgraph, node } = app.graph.convertToSubgraph(new Set(ids.map(byId)));
    app.graph.remove(sink);
    subgraph.name = node.title = name;
    for (const slot of [subgraph.inputs, node.inputs].map((slots) => slots.find((i) => i.name === "pixels"))) {
        slot.label = "image";
    }
    node.properties.proxyWidgets = shown;
    return app.canvas._serializeItems([node]);
}"""


def converted(url: str) -> dict:
    """The editor's serialisation of the subgraph node ({nodes: [node], subgraphs: [definition], ...})."""
    workflow = json.loads((ROOT / "workflows" / "soft_inpainting.json").read_text())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function(
                "() => !!(window.app?.graph && window.LiteGraph?.registered_node_types?.SoftLatentBlendKSampler)",
                timeout=120_000)
            page.evaluate("(graph) => app.loadGraphData(graph, true, true, 'blueprint.json')", workflow)
            ids = [SAMPLER, ENCODE, MASK_PREP, SCHEDULE, DECODE, COMPOSITE]
            return page.evaluate(CONVERT, [ids, SHOWN_WIDGETS, NAME])
        finally:
            browser.close()


def blueprint(serialised: dict) -> dict:
    """The blueprint file, as the editor's Publish Subgraph writes one, with its description and search aliases."""
    [node] = serialised["nodes"]
    [definition] = serialised["subgraphs"]
    node["pos"] = [0, 0]
    definition.update(description=DESCRIPTION, category=CATEGORY)
    return {"revision": 0, "last_node_id": node["id"], "last_link_id": 0, "nodes": [node], "links": [],
            "version": 0.4, "definitions": {"subgraphs": [definition]},
            "extra": {"BlueprintDescription": DESCRIPTION, "BlueprintSearchAliases": SEARCH_ALIASES}}


def main(url: str) -> None:
    BLUEPRINT.parent.mkdir(exist_ok=True)
    BLUEPRINT.write_text(json.dumps(blueprint(converted(url)), indent=1) + "\n")
    print(f"wrote {BLUEPRINT.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
