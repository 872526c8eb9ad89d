"""The pack in the real ComfyUI frontend: Debian's Chromium, headless, driven by Playwright.

Every example UI workflow loads with all node types known and no console errors of the pack's making (errors
that the same editor logs without the pack are the frontend's); the Soft Mask Schedule
node draws its chart (web/soft_inpainting.js) and redraws it when a widget changes; a run shows the
Adaptive Difference Composite's mask preview on the node. Screenshots go to tests/output/browser/.

Needs, besides COMFYUI_PATH (see conftest.py):
    apt-get install -y chromium                  # /usr/bin/chromium
    <ComfyUI's python> -m pip install playwright # do not run `playwright install`: Debian's Chromium is used
All traffic stays on the loopback server: any other request is aborted (and listed in the failure messages).
"""

import contextlib
import io
import json
import os
import re
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch
from PIL import Image
from test_video import write_example_video

from core import modified_nmask

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Python Playwright is not installed (pip install playwright into ComfyUI's Python)"
)


CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium (Debian's Chromium)"
)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / "workflows").glob("*.json"))  # the UI workflows; workflows/api/ holds API ones
OUTPUT = REPO_ROOT / "tests" / "output" / "browser"
VIEWPORT = {"width": 1920, "height": 1080}
CURVE_COLORS = {0.25: (0x4A, 0xA8, 0xFF), 0.5: (0xFF, 0xB0, 0x20), 0.75: (0xFF, 0x4F, 0x7B)}  # as in the .js
KARRAS_SD15 = {"n": 20, "sigma_min": 0.0292, "sigma_max": 14.6146, "rho": 7.0}

BARE_READY = "() => !!(window.app?.graph && window.app.canvas)"
READY = """() => !!(window.app?.graph && window.app.canvas && window.LiteGraph?.registered_node_types?.SoftMaskSchedule
    && window.app.extensions?.some((e) => e.name === "soft-inpainting.SoftMaskScheduleChart"))"""
VIEW_SETTLED = """() => new Promise((done) => {
    let last = "", same = 0;
    const check = () => {
        const view = JSON.stringify([app.canvas.ds.scale, ...app.canvas.ds.offset]);
        same = view === last ? same + 1 : 0;
        last = view;
        same >= 10 ? done() : requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
})"""
# The on-screen box of all nodes, title bars included, with a margin.
GRAPH_BOX = """() => {
    const corners = app.graph.nodes.flatMap((n) => [
        app.canvas.ds.convertOffsetToCanvas([n.pos[0], n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT]),
        app.canvas.ds.convertOffsetToCanvas([n.pos[0] + n.size[0], n.pos[1] + n.size[1]])]);
    const rect = app.canvas.canvas.getBoundingClientRect(), margin = 16;
    const x = Math.max(rect.left, rect.left + Math.min(...corners.map((c) => c[0])) - margin);
    const y = Math.max(rect.top, rect.top + Math.min(...corners.map((c) => c[1])) - margin);
    return { x, y, width: Math.min(rect.right, rect.left + Math.max(...corners.map((c) => c[0])) + margin) - x,
             height: Math.min(rect.bottom, rect.top + Math.max(...corners.map((c) => c[1])) + margin) - y };
}"""
TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# Once the nodes' places and sizes hold for a second: nodes showing a picture or a video grow when it has loaded.
NODES_SETTLED = """() => new Promise((done) => {
    let last = "", same = 0, checks = 0;
    const check = () => {
        const layout = JSON.stringify(app.graph.nodes.map((n) => [...n.pos, ...n.size]));
        same = layout === last ? same + 1 : 0;
        last = layout;
        same >= 10 || ++checks > 150 ? done() : setTimeout(check, 100);
    };
    check();
})"""
# Each node's box on the canvas, title bar included.
NODE_BOXES = """() => app.graph.nodes.map((n) => ({ title: n.title,
    box: [n.pos[0], n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT, n.pos[0] + n.size[0], n.pos[1] + n.size[1]] }))"""


class Console:
    """The page's console errors (and uncaught exceptions), each as (text, url) with the server's address
    replaced by <server>, so that two servers' pages compare. Errors of requests this test blocked (a
    non-loopback address, e.g. the editor's release check) are left out: they are the test's doing."""

    def __init__(self, origin: str):
        self.origin = origin
        self.errors: list[tuple[str, str]] = []
        self.blocked: list[str] = []

    def _key(self, text: str, url: str) -> tuple[str, str]:
        return text.replace(self.origin, "<server>"), url.replace(self.origin, "<server>")

    def on_console(self, message):
        url = message.location.get("url", "")
        if message.type == "error" and not (message.text.startswith("Failed to load resource") and url in self.blocked):
            self.errors.append(self._key(message.text, url))

    def on_page_error(self, error):
        self.errors.append(self._key(f"pageerror: {error}", ""))

    def route(self, route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()


@contextlib.contextmanager
def _editor_page(url, base, tmp_path_factory, ready):
    """The ComfyUI editor at `url` in headless Chromium, opened as a first-time user who closed the tutorial;
    yields (page, console) once `ready` holds."""
    # What the workflows' LoadImage and LoadVideo show; no 404.
    _write_example_image(base / "input" / "example.png")
    _write_example_image(base / "input" / "example_frame.png")
    write_example_video(base / "input" / "example.mp4")
    # A first visit opens the templates browser over the canvas; mark the tutorial done, as a user would.
    _post_setting(url, "Comfy.TutorialCompleted", True)
    # Draw node titles and widgets at any zoom, so the fitted whole-workflow screenshots stay readable.
    _post_setting(url, "LiteGraph.Canvas.MinFontSizeForLOD", 0)
    _post_setting(url, "Comfy.Minimap.Visible", False)  # it would cover the graph's corner in the screenshots
    console = Console(url)
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium_profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport=VIEWPORT, device_scale_factor=1,
        )
        try:
            context.route("**/*", console.route)
            page = context.new_page()
            page.on("console", console.on_console)
            page.on("pageerror", console.on_page_error)
            page.goto(url)
            page.wait_for_function(ready, timeout=120_000)
            yield page, console
        finally:
            context.close()


@pytest.fixture(scope="module")
def frontend_noise(comfy_server_without_pack, tmp_path_factory) -> set[tuple[str, str]]:
    """What the frontend logs by itself: the errors of the same editor on a ComfyUI without this pack, opened
    the same way, then loading the frontend's default graph. Errors the pack's page shares with it are the
    frontend's (frontend 1.49 logs "ComfyApp graph accessed before initialization" at every start, and a
    fresh user directory 404s on optional user files)."""
    url, base = comfy_server_without_pack
    with _editor_page(url, base, tmp_path_factory, BARE_READY) as (page, console):
        page.evaluate("() => app.loadGraphData()")
        page.evaluate(TWO_FRAMES)
        page.wait_for_timeout(2000)  # late start-up requests
        return set(console.errors)


@pytest.fixture(scope="module")
def editor(comfy_server, frontend_noise, tmp_path_factory):
    """A page with the ComfyUI editor open with the pack, and a function that lists the console errors since
    the last call that the frontend does not log without the pack."""
    url, base = comfy_server
    _stand_in_models(base)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    with _editor_page(url, base, tmp_path_factory, READY) as (page, console):
        # Record the missing-nodes dialog instead of trusting that it would be visible.
        page.evaluate("""() => {
            window.__missingNodeTypes = [];
            const show = app.showMissingNodesError.bind(app);
            app.showMissingNodesError = (types, ...rest) => {
                window.__missingNodeTypes.push(...types.map((t) => (typeof t === "object" ? t.type : t)));
                return show(types, ...rest);
            };
        }""")

        def pack_errors():
            own = [error for error in console.errors if error not in frontend_noise]
            console.errors.clear()
            return {"errors": own, "blocked requests": list(console.blocked)} if own else None

        assert not (errors := pack_errors()), f"console errors while opening the editor: {errors}"
        yield page, pack_errors, url


# Where each loader of the example workflows looks for its files, under the base directory's models/, and how many
# of its first widgets name one.
MODEL_FILES = {"CheckpointLoaderSimple": ("checkpoints", 1), "UNETLoader": ("diffusion_models", 1),
               "VAELoader": ("vae", 1), "CLIPLoader": ("text_encoders", 1), "DualCLIPLoader": ("text_encoders", 2)}


def _stand_in_models(base):
    """The model files the example workflows name, as links to a tiny checkpoint, so that the editor shows the
    workflows as a user with those models sees them (no missing-model warning over the graph)."""
    tiny = base / "models" / "checkpoints" / "tiny_sd15.safetensors"
    for path in WORKFLOWS:
        for node in json.loads(path.read_text())["nodes"]:
            if node["type"] in MODEL_FILES:
                name, count = MODEL_FILES[node["type"]]
                folder = base / "models" / name
                folder.mkdir(exist_ok=True)
                for file_name in node["widgets_values"][:count]:
                    if not (folder / file_name).exists():
                        (folder / file_name).symlink_to(tiny.resolve())


def _post_setting(url, setting, value):
    request = urllib.request.Request(f"{url}/api/settings/{setting}", data=json.dumps(value).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def _write_example_image(path):
    rgba = np.zeros((256, 256, 4), dtype=np.uint8)
    rgba[..., :3] = np.random.default_rng(0).integers(0, 256, size=(256, 256, 3))
    rgba[..., 3] = 255
    rgba[112:144, 112:144, 3] = 0  # transparent = the mask LoadImage gives
    Image.fromarray(rgba, "RGBA").save(path)


def _load(page, workflow, name, fit=False):
    """Load a UI workflow the way the editor's Load does (in a tab called `name`), then wait for it to be drawn.
    With `fit`, show the whole graph (the editor's Fit View) rather than the view saved in the workflow."""
    page.evaluate("([graph, name]) => app.loadGraphData(graph, true, true, name)", [workflow, name])
    if fit:
        _fit_view(page)
    page.evaluate("() => app.canvas.setDirty(true, true)")
    page.evaluate(TWO_FRAMES)


def _fit_view(page):
    page.evaluate("() => app.extensionManager.command.execute('Comfy.Canvas.FitView')")
    page.evaluate(VIEW_SETTLED)  # Fit View animates the view: let it finish
    page.evaluate("() => app.canvas.setDirty(true, true)")
    page.evaluate(TWO_FRAMES)


def _screenshot(page, name, **kwargs):
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    print(f"screenshot: {path}")
    return path


def test_console_check_reports_an_error_the_frontend_does_not_log(editor):
    """The comparison with the page without the pack hides no new error."""
    page, pack_errors, _ = editor
    pack_errors()
    page.evaluate("() => console.error('soft-inpainting: an error of the pack')")
    errors = pack_errors()
    assert errors and [text for text, _ in errors["errors"]] == ["soft-inpainting: an error of the pack"]


def _expected_frontend_version(comfyui_path):
    """The frontend version the server should serve: the one COMFYUI_FRONTEND_ROOT's package says (a pip install
    puts its .dist-info beside the package), else the checkout's pinned comfyui-frontend-package."""
    root = os.environ.get("COMFYUI_FRONTEND_ROOT")
    if root:
        infos = sorted(Path(root).resolve().parents[1].glob("comfyui_frontend_package-*.dist-info"))
        return infos[-1].name.removesuffix(".dist-info").split("-")[1] if infos else None
    pinned = re.search(r"comfyui-frontend-package==([\w.]+)", (comfyui_path / "requirements.txt").read_text())
    return pinned[1]


def test_the_editor_is_the_chosen_frontend(editor, comfyui_path):
    page, _, _ = editor
    version = page.evaluate("() => window.__COMFYUI_FRONTEND_VERSION__")
    print(f"frontend {version}")
    expected = _expected_frontend_version(comfyui_path)
    assert version == expected if expected else version, f"frontend {version}, expected {expected}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=[path.stem for path in WORKFLOWS])
def test_ui_workflow_loads_with_known_nodes_and_no_console_errors(editor, path):
    page, pack_errors, _ = editor
    pack_errors()
    workflow = json.loads(path.read_text())
    page.evaluate("() => { window.__missingNodeTypes = []; }")
    _load(page, workflow, path.name)
    page.evaluate(NODES_SETTLED)
    assert not (overlaps := _overlapping(page.evaluate(NODE_BOXES))), f"{path.name}: nodes overlap: {overlaps}"
    _fit_view(page)
    _screenshot(page, f"workflow_{path.stem}")
    _screenshot(page, f"graph_{path.stem}", clip=page.evaluate(GRAPH_BOX))  # for tools/make_thumbnails.py

    loaded = page.evaluate("""() => app.graph.nodes.map((node) => ({
        id: node.id, type: node.type, known: node.type in LiteGraph.registered_node_types,
        errors: !!node.has_errors }))""")
    # Frontend 1.49 keeps node ids as strings, 1.35 as numbers.
    assert sorted(str(node["id"]) for node in loaded) == sorted(str(node["id"]) for node in workflow["nodes"])
    unknown = [node["type"] for node in loaded if not node["known"] or node["errors"]]
    assert not unknown, f"{path.name}: node types the frontend does not know: {unknown}"
    assert page.evaluate("() => window.__missingNodeTypes") == [], f"{path.name}: missing-nodes dialog"
    assert not (errors := pack_errors()), f"{path.name}: console errors {errors}"


def _overlapping(nodes):
    """The pairs of nodes whose boxes overlap."""
    return [(a["title"], b["title"]) for i, a in enumerate(nodes) for b in nodes[i + 1:]
            if a["box"][0] < b["box"][2] and b["box"][0] < a["box"][2]
            and a["box"][1] < b["box"][3] and b["box"][1] < a["box"][3]]


def _chart(page):
    """The Soft Mask Schedule node's chart: the curves it last drew and its on-screen box."""
    return page.evaluate("""() => {
        const node = app.graph.nodes.find((n) => n.type === "SoftMaskSchedule");
        const chart = node.widgets.find((w) => w.name === "soft_inpaint_chart");
        const last = Math.max(...node.widgets.filter((w) => w !== chart).map((w) => w.y + (w.computedHeight ?? 20)));
        const rect = app.canvas.canvas.getBoundingClientRect();
        const [x0, y0] = app.canvas.ds.convertOffsetToCanvas([node.pos[0], node.pos[1] + chart.y]);
        const [x1, y1] = app.canvas.ds.convertOffsetToCanvas(
            [node.pos[0] + node.size[0], node.pos[1] + chart.y + chart.computedHeight]);
        return {
            curves: node.softInpaintCurve, chartTop: chart.y, widgetsBottom: last, nodeHeight: node.size[1],
            chartBottom: chart.y + chart.computedHeight,
            box: { x: rect.left + x0, y: rect.top + y0, width: x1 - x0, height: y1 - y0 },
        };
    }""")


def _expected_kept(bias, strength):
    from comfy.k_diffusion.sampling import get_sigmas_karras  # ComfyUI's own schedule (on sys.path via conftest)

    sigmas = get_sigmas_karras(**KARRAS_SD15).double()
    return {
        opacity: (1 - modified_nmask(torch.full((len(sigmas), 1, 1, 1), opacity, dtype=torch.float64), sigmas,
                                     bias, strength)).flatten().tolist()
        for opacity in CURVE_COLORS
    }


def _check_curves(chart, bias, strength):
    curves = chart["curves"]
    assert curves and [curve["opacity"] for curve in curves] == list(CURVE_COLORS)
    expected = _expected_kept(bias, strength)
    for curve in curves:
        steps = [step for step, _ in curve["points"]]
        kept = [value for _, value in curve["points"]]
        assert len(kept) >= 20 and steps == sorted(steps)
        assert all(0 <= value <= 1 for value in kept)
        # Same numbers as the sampler's blend (core.modified_nmask over ComfyUI's Karras sigmas).
        np.testing.assert_allclose(kept, expected[curve["opacity"]], atol=1e-6)


def _color_pixels(png):
    """Per curve, how many pixels of the chart box have (nearly) its colour."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return {opacity: int((np.abs(image - rgb).sum(axis=-1) < 60).sum()) for opacity, rgb in CURVE_COLORS.items()}


def test_schedule_chart_draws_and_follows_the_widgets(editor):
    page, pack_errors, _ = editor
    pack_errors()
    _load(page, json.loads((REPO_ROOT / "workflows" / "soft_inpainting.json").read_text()), "chart.json")
    # Close up on the node at 1.5x (above the zoom where the frontend drops detail). Load Image grows to
    # show example.png and then covers the schedule node in the workflows' layout: move it aside first.
    page.evaluate("""() => {
        const node = app.graph.nodes.find((n) => n.type === "SoftMaskSchedule");
        const loadImage = app.graph.nodes.find((n) => n.type === "LoadImage");
        loadImage.pos = [node.pos[0] - loadImage.size[0] - 40, node.pos[1]];
        const ds = app.canvas.ds;
        ds.scale = 1.5;
        ds.offset = [60 / ds.scale - node.pos[0], 80 / ds.scale - node.pos[1]];
        app.canvas.setDirty(true, true);
    }""")
    page.evaluate(TWO_FRAMES)

    before = _chart(page)
    assert before["chartTop"] >= before["widgetsBottom"], "the chart overlaps the widgets"
    assert before["chartBottom"] <= before["nodeHeight"], "the chart overflows the node"
    assert before["chartBottom"] - before["chartTop"] >= 140
    _check_curves(before, bias=1.0, strength=0.5)
    shot_before = page.screenshot(clip=before["box"])
    (OUTPUT / "schedule_chart_bias_1.png").write_bytes(shot_before)
    print(f"screenshot: {OUTPUT / 'schedule_chart_bias_1.png'}")
    pixels = _color_pixels(shot_before)
    assert all(count > 50 for count in pixels.values()), f"curve colours missing from the chart: {pixels}"

    # Change schedule_bias as the UI does: the widget's setValue sets the value and calls its callback.
    page.evaluate("""() => {
        const node = app.graph.nodes.find((n) => n.type === "SoftMaskSchedule");
        const widget = node.widgets.find((w) => w.name === "schedule_bias");
        widget.setValue(3, { e: undefined, node, canvas: app.canvas });
    }""")
    page.evaluate(TWO_FRAMES)
    after = _chart(page)
    _check_curves(after, bias=3.0, strength=0.5)
    assert after["curves"] != before["curves"]
    shot_after = page.screenshot(clip=after["box"])
    (OUTPUT / "schedule_chart_bias_3.png").write_bytes(shot_after)
    print(f"screenshot: {OUTPUT / 'schedule_chart_bias_3.png'}")
    changed = np.abs(np.asarray(Image.open(io.BytesIO(shot_after)).convert("RGB")).astype(int)
                     - np.asarray(Image.open(io.BytesIO(shot_before)).convert("RGB")).astype(int)).sum(axis=-1) > 60
    assert changed.sum() > 200, "the chart on screen did not change with schedule_bias"
    _screenshot(page, "schedule_chart_bias_3_editor")
    assert not (errors := pack_errors()), f"console errors {errors}"


def test_new_schedule_node_fits_its_chart_and_does_not_save_it(editor):
    """A node added from the library is sized for the chart; the chart is not a saved or queued value."""
    page, pack_errors, _ = editor
    pack_errors()
    _load(page, {"last_node_id": 0, "last_link_id": 0, "nodes": [], "links": [], "groups": [], "config": {},
                 "extra": {}, "version": 0.4}, "new_node.json")
    page.evaluate("""() => {
        const node = LiteGraph.createNode("SoftMaskSchedule");
        node.pos = [100, 100];
        app.graph.add(node);
        app.canvas.centerOnNode(node);  // in view, so that it is laid out and drawn
        app.canvas.setDirty(true, true);
    }""")
    # Drawn, so laid out: frontend 1.58 starts a new widget at y 0 rather than leaving it unset.
    page.wait_for_function("""() => app.graph.nodes[0].softInpaintCurve
        && app.graph.nodes[0].widgets.find((w) => w.name === "soft_inpaint_chart").y > 0""")
    chart = _chart(page)
    assert chart["chartTop"] >= chart["widgetsBottom"] and chart["chartBottom"] <= chart["nodeHeight"]
    _check_curves(chart, bias=1.0, strength=0.5)
    saved = page.evaluate("() => app.graph.nodes[0].serialize().widgets_values")
    assert saved == [1.0, 0.5, 4.0, "sd"]
    prompt = page.evaluate("async () => (await app.graphToPrompt()).output")
    assert set(next(iter(prompt.values()))["inputs"]) == {
        "schedule_bias", "preservation_strength", "transition_contrast_boost", "sigma_space"}
    assert not (errors := pack_errors()), f"console errors {errors}"


def test_nodes_2_vue_mode_shows_every_node_and_the_chart_inside_its_node(editor):
    """Nodes 2.0 (Vue) mode: each node is a DOM element, and the schedule chart is drawn inside its node."""
    page, pack_errors, _ = editor
    pack_errors()
    page.evaluate("async () => await app.extensionManager.setting.set('Comfy.VueNodes.Enabled', true)")
    try:
        _load(page, json.loads((REPO_ROOT / "workflows" / "soft_inpainting.json").read_text()), "vue.json", fit=True)
        page.wait_for_function("() => document.querySelectorAll('[data-node-id]').length === app.graph.nodes.length")
        page.wait_for_function("""() => app.graph.nodes.find((n) => n.type === "SoftMaskSchedule").softInpaintCurve""")
        shown = page.evaluate("""() => {
            const node = app.graph.nodes.find((n) => n.type === "SoftMaskSchedule");
            const element = document.querySelector(`[data-node-id="${node.id}"]`);
            const box = (r) => ({ x: r.x, y: r.y, width: r.width, height: r.height });
            return { node: box(element.getBoundingClientRect()), curves: node.softInpaintCurve,
                     charts: [...element.querySelectorAll("canvas")].map((c) => box(c.getBoundingClientRect())) };
        }""")
        _screenshot(page, "workflow_vue_soft_inpainting")
        assert len(shown["charts"]) == 1, f"expected one chart canvas in the node, got {shown['charts']}"
        chart, node = shown["charts"][0], shown["node"]
        assert chart["height"] >= 60 and chart["width"] >= 100, f"chart too small: {chart}"
        assert node["y"] <= chart["y"] and chart["y"] + chart["height"] <= node["y"] + node["height"] + 1, \
            f"the chart {chart} hangs outside its node {node}"
        _check_curves(shown, bias=1.0, strength=0.5)
        pixels = _color_pixels(page.screenshot(clip=chart))
        assert all(count > 10 for count in pixels.values()), f"curve colours missing from the chart: {pixels}"
        assert not (errors := pack_errors()), f"console errors {errors}"
    finally:
        page.evaluate("async () => await app.extensionManager.setting.set('Comfy.VueNodes.Enabled', false)")


def test_composite_mask_preview_shows_after_a_run(editor):
    """The Adaptive Difference Composite's PreviewMask ui output appears on the node (no extension code)."""
    page, pack_errors, _ = editor
    pack_errors()
    workflow = json.loads((REPO_ROOT / "workflows" / "soft_inpainting.json").read_text())
    for node in workflow["nodes"]:
        if node["type"] == "CheckpointLoaderSimple":
            node["widgets_values"][0] = "tiny_sd15.safetensors"
        if node["type"] == "SoftLatentBlendKSampler":
            node["widgets_values"][2] = 2  # steps
    _load(page, workflow, "run.json")
    page.evaluate("() => app.queuePrompt(0, 1)")
    page.wait_for_function("""() => {
        const node = app.graph.nodes.find((n) => n.type === "AdaptiveDifferenceComposite");
        return node?.imgs?.length > 0 && node.imgs[0].complete && node.imgs[0].naturalWidth > 0;
    }""", timeout=300_000)
    preview = page.evaluate("""() => {
        const node = app.graph.nodes.find((n) => n.type === "AdaptiveDifferenceComposite");
        return app.nodeOutputs[String(node.id)]?.images;
    }""")
    assert preview and preview[0]["type"] == "temp", f"not a PreviewMask output: {preview}"
    page.evaluate("""() => {
        const node = app.graph.nodes.find((n) => n.type === "AdaptiveDifferenceComposite");
        const ds = app.canvas.ds;
        ds.scale = 1;
        ds.offset = [700 - node.pos[0], 100 - node.pos[1]];
        app.canvas.setDirty(true, true);
    }""")
    page.evaluate(TWO_FRAMES)
    _screenshot(page, "composite_mask_preview_after_run")
    assert not (errors := pack_errors()), f"console errors {errors}"


BLUEPRINT_INPUTS = ["model", "positive", "negative", "image", "vae", "mask"]
BLUEPRINT_WIDGETS = ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise", "blur_x", "blur_y"]
# Around the blueprint's node: what a user connects to it. Each entry: node type, place, widget values, and the
# links into the blueprint node (output slot of this node -> blueprint input name).
AROUND_BLUEPRINT = {
    "checkpoint": ("CheckpointLoaderSimple", [0, 0], {"ckpt_name": "tiny_sd15.safetensors"}, {0: "model", 2: "vae"}),
    "picture": ("LoadImage", [0, 180], {"image": "example.png"}, {0: "image", 1: "mask"}),
    "positive": ("CLIPTextEncode", [380, 0], {"text": "a red brick wall"}, {0: "positive"}),
    "negative": ("CLIPTextEncode", [380, 260], {"text": "blurry"}, {0: "negative"}),
}


def _open_node_search(page):
    """Double-click the empty canvas until the node search box has the focus (a fresh tab may miss the first)."""
    for _ in range(5):
        page.mouse.dblclick(VIEWPORT["width"] // 2, VIEWPORT["height"] // 2)
        try:
            page.wait_for_function("() => document.activeElement?.tagName === 'INPUT'", timeout=3000)
            return
        except sync_api.TimeoutError:
            continue
    pytest.fail("the node search box did not open on a double-click on the canvas")


def test_soft_inpaint_blueprint_is_one_node_found_by_search_and_runs(editor):
    """subgraphs/Soft Inpaint.json: the node search finds it by name, it comes in as one node with the pack's
    inputs, outputs and main widgets, and a graph around it runs and saves the composited picture."""
    page, pack_errors, _ = editor
    pack_errors()
    _load(page, {"last_node_id": 0, "last_link_id": 0, "nodes": [], "links": [], "groups": [], "config": {},
                 "extra": {}, "version": 0.4}, "blueprint.json")
    # As a user adds a node: double-click the empty canvas, type its name, take the first match.
    _open_node_search(page)
    page.keyboard.type("Soft Inpaint", delay=20)
    page.wait_for_timeout(1500)  # the search box matches as one types
    _screenshot(page, "soft_inpaint_blueprint_search")
    page.keyboard.press("Enter")
    page.wait_for_function("() => app.graph.nodes.length === 1")
    # Newer frontends (1.49) hang the new node on the pointer as a ghost until a click on the canvas places it.
    page.wait_for_function("() => document.activeElement?.tagName !== 'INPUT'")  # the search box has closed
    page.mouse.move(VIEWPORT["width"] // 2 + 40, VIEWPORT["height"] // 2 + 40, steps=4)
    page.mouse.click(VIEWPORT["width"] // 2 + 40, VIEWPORT["height"] // 2 + 40)
    page.wait_for_function("() => !app.graph.nodes[0].flags?.ghost")
    added = page.evaluate("""() => {
        const node = app.graph.nodes[0];
        return { title: node.title, subgraph: !!node.subgraph, inputs: node.inputs.map((i) => i.label ?? i.name),
                 outputs: node.outputs.map((o) => o.name), widgets: (node.widgets ?? []).map((w) => w.name) };
    }""")
    assert added["title"] == "Soft Inpaint" and added["subgraph"], added
    assert added["inputs"][:len(BLUEPRINT_INPUTS)] == BLUEPRINT_INPUTS
    assert added["outputs"] == ["image", "composite_mask"]
    # Frontend 1.35 names a promoted widget after its node too ("8: seed").
    assert [name.split(": ")[-1] for name in added["widgets"]] == BLUEPRINT_WIDGETS
    page.evaluate("""(around) => {
        const blueprint = app.graph.nodes[0];
        blueprint.pos = [840, 0];
        const input = (name) => blueprint.inputs.findIndex((i) => (i.label ?? i.name) === name);
        for (const [type, pos, widgets, links] of Object.values(around)) {
            const node = LiteGraph.createNode(type);
            node.pos = pos;
            app.graph.add(node);
            for (const [name, value] of Object.entries(widgets)) {
                node.widgets.find((w) => w.name === name).value = value;
            }
            for (const [slot, name] of Object.entries(links)) node.connect(Number(slot), blueprint, input(name));
        }
        const checkpoint = app.graph.nodes.find((n) => n.type === "CheckpointLoaderSimple");
        for (const encoder of app.graph.nodes.filter((n) => n.type === "CLIPTextEncode")) {
            checkpoint.connect(1, encoder, 0);
        }
        const save = LiteGraph.createNode("SaveImage");
        save.pos = [1180, 0];
        app.graph.add(save);
        blueprint.connect(0, save, 0);
        blueprint.widgets.find((w) => w.name.endsWith("steps")).value = 2;
        app.canvas.setDirty(true, true);
    }""", {key: [kind, pos, widgets, {str(slot): name for slot, name in links.items()}]
           for key, (kind, pos, widgets, links) in AROUND_BLUEPRINT.items()})
    page.evaluate("() => app.queuePrompt(0, 1)")
    page.wait_for_function("""() => {
        const save = app.graph.nodes.find((n) => n.type === "SaveImage");
        return save?.imgs?.length > 0 && save.imgs[0].complete && save.imgs[0].naturalWidth > 0;
    }""", timeout=300_000)
    saved = page.evaluate("""() => app.nodeOutputs[String(app.graph.nodes.find((n) => n.type === "SaveImage").id)]
        ?.images""")
    assert saved and saved[0]["type"] == "output", saved
    page.evaluate("() => app.canvas.deselectAll()")  # Fit View fits the selection, if any
    _fit_view(page)
    _screenshot(page, "graph_soft_inpaint_blueprint", clip=page.evaluate(GRAPH_BOX))  # for tools/make_thumbnails.py
    assert not (errors := pack_errors()), f"console errors {errors}"

