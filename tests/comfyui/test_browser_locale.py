"""The editor in the user's language: kept apart from test_browser.py because that module keeps one editor open
(its `editor` fixture) for all its tests, and Playwright's sync API cannot open a second one inside it."""

import json

from test_browser import READY, REPO_ROOT, _editor_page, _load, _post_setting, _screenshot, frontend_noise

__all__ = ["frontend_noise"]  # the fixture, imported so that pytest finds it here


def test_nodes_and_chart_speak_the_users_language(comfy_server, frontend_noise, tmp_path_factory):
    """A user whose editor language (setting Comfy.Locale) is Chinese sees the Soft Mask Schedule node's name,
    input labels and chart texts of locales/zh (ComfyUI's /i18n serves them), in the classic canvas and in
    Nodes 2.0 mode."""
    url, base = comfy_server
    node_defs = json.loads((REPO_ROOT / "locales" / "zh" / "nodeDefs.json").read_text(encoding="utf-8"))
    chart = json.loads((REPO_ROOT / "locales" / "zh" / "main.json").read_text(encoding="utf-8"))["softInpainting"]
    schedule = node_defs["SoftMaskSchedule"]
    _post_setting(url, "Comfy.Locale", "zh")
    try:
        with _editor_page(url, base, tmp_path_factory, READY) as (page, console):
            workflow = {"last_node_id": 1, "last_link_id": 0, "links": [], "groups": [], "config": {}, "extra": {},
                        "version": 0.4, "nodes": [{"id": 1, "type": "SoftMaskSchedule", "pos": [100, 100],
                                                   "size": [340, 300], "flags": {}, "order": 0, "mode": 0,
                                                   "inputs": [], "outputs": [], "properties": {},
                                                   "widgets_values": [1.0, 0.5, 4.0, "sd"]}]}
            _load(page, workflow, "zh.json")
            page.evaluate("() => app.canvas.centerOnNode(app.graph.nodes[0])")
            page.wait_for_function("() => !!app.graph.nodes[0].softInpaintChartText")
            shown = page.evaluate("""() => {
                const node = app.graph.nodes[0];
                return { title: node.title, texts: node.softInpaintChartText,
                         labels: Object.fromEntries(node.widgets.map((w) => [w.name, w.label])) };
            }""")
            _screenshot(page, "schedule_node_zh")
            page.evaluate("async () => await app.extensionManager.setting.set('Comfy.VueNodes.Enabled', true)")
            try:
                _load(page, workflow, "zh_vue.json")
                page.wait_for_function("() => document.querySelector('[data-node-id]')")
                vue_text = page.evaluate("() => document.querySelector('[data-node-id]').innerText")
                _screenshot(page, "schedule_node_zh_vue")
            finally:
                page.evaluate("async () => await app.extensionManager.setting.set('Comfy.VueNodes.Enabled', false)")
            errors = [error for error in console.errors if error not in frontend_noise]
    finally:
        _post_setting(url, "Comfy.Locale", "en")
    assert shown["title"] == schedule["display_name"] == "软遮罩调度"
    assert shown["labels"]["schedule_bias"] == schedule["inputs"]["schedule_bias"]["name"], shown["labels"]
    assert shown["texts"] == {"title": chart["chart"]["title"], "axis": chart["chart"]["axis"].replace("{steps}", "20")}
    assert schedule["display_name"] in vue_text and schedule["inputs"]["schedule_bias"]["name"] in vue_text, vue_text
    assert not errors, f"console errors {errors}"
