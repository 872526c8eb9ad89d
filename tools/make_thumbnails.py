"""Template thumbnails and the README's editor screenshots, from the browser test's screenshots.

    COMFYUI_PATH=... <ComfyUI's python> -m pytest tests/comfyui/test_browser.py && python tools/make_thumbnails.py

ComfyUI's template browser shows <name>.jpg beside each workflow in workflows/; the browser test saves the
graph of every example workflow, as the editor draws it, in tests/output/browser/graph_<name>.png (and the whole
editor around it in workflow_<name>.png), and the Soft Inpaint blueprint's node in a graph that ran in
graph_soft_inpaint_blueprint.png.
"""

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "tests" / "output" / "browser"
THUMBNAIL_SIZE = (768, 432)
README_SCREENSHOT = ROOT / "web" / "docs" / "images" / "editor_soft_inpainting.png"
README_BLUEPRINT = ROOT / "web" / "docs" / "images" / "soft_inpaint_blueprint.png"
README_WIDTH = 1280


def thumbnail(graph: Image.Image) -> Image.Image:
    """The graph fitted into THUMBNAIL_SIZE, centred on the canvas colour (its top-left pixel)."""
    graph.thumbnail(THUMBNAIL_SIZE, Image.LANCZOS)
    canvas = Image.new("RGB", THUMBNAIL_SIZE, graph.getpixel((0, 0)))
    canvas.paste(graph, ((THUMBNAIL_SIZE[0] - graph.width) // 2, (THUMBNAIL_SIZE[1] - graph.height) // 2))
    return canvas


def main():
    workflows = sorted((ROOT / "workflows").glob("*.json"))
    missing = [stem for stem in [path.stem for path in workflows] + ["soft_inpaint_blueprint"]
               if not (SCREENSHOTS / f"graph_{stem}.png").is_file()]
    if missing:
        raise SystemExit(f"no screenshot of {missing} in {SCREENSHOTS}: run the browser test first")
    for path in workflows:
        thumbnail(Image.open(SCREENSHOTS / f"graph_{path.stem}.png").convert("RGB")).save(
            path.with_suffix(".jpg"), quality=88)
        print(f"wrote {path.with_suffix('.jpg').relative_to(ROOT)}")
    shot = Image.open(SCREENSHOTS / "workflow_soft_inpainting.png").convert("RGB")
    shot.resize((README_WIDTH, README_WIDTH * 9 // 16), Image.LANCZOS).save(README_SCREENSHOT, optimize=True)
    print(f"wrote {README_SCREENSHOT.relative_to(ROOT)}")
    graph = Image.open(SCREENSHOTS / "graph_soft_inpaint_blueprint.png").convert("RGB")
    graph.thumbnail((README_WIDTH, README_WIDTH), Image.LANCZOS)
    graph.save(README_BLUEPRINT, optimize=True)
    print(f"wrote {README_BLUEPRINT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
