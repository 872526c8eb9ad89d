"""The pack in a real ComfyUI server: /object_info, the example API workflow through /prompt, errors."""

import dataclasses
import io
import json
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
from pack_nodes import PACK_NODE_IDS
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
# Each example graph with the tiny checkpoint of its model family.
CHECKPOINTS = {
    "soft_inpainting": "tiny_sd15.safetensors",
    "soft_inpainting_sdxl": "tiny_sd15.safetensors",
    "soft_inpainting_only_masked": "tiny_sd15.safetensors",
    "soft_inpainting_inpaint_model": "tiny_sd15_inpaint.safetensors",
    "soft_inpainting_flow": "tiny_sd3.safetensors",
}
SIZE = 256  # room for unchanged areas beyond the mask blur and the composite's filter and blur radius
MASKED = slice(112, 144)
FAR = slice(40, 216)  # outside this frame nothing may change


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def _queue(url, prompt):
    request = urllib.request.Request(
        f"{url}/prompt", data=json.dumps({"prompt": prompt, "client_id": uuid.uuid4().hex}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["prompt_id"]


def _wait(url, prompt_id, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = _get(f"{url}/history/{prompt_id}")
        if prompt_id in history and history[prompt_id]["status"].get("completed") is not None:
            entry = history[prompt_id]
            if entry["status"]["status_str"] in ("success", "error"):
                return entry
        time.sleep(0.5)
    pytest.fail(f"prompt {prompt_id} did not finish within {timeout} s")


def _error(entry):
    for kind, data in entry["status"]["messages"]:
        if kind == "execution_error":
            return data
    pytest.fail(f"no execution_error in {entry['status']}")


@pytest.fixture(scope="module")
def server(comfy_server):
    url, base = comfy_server
    rgba = np.zeros((SIZE, SIZE, 4), dtype=np.uint8)
    rgba[..., :3] = np.random.default_rng(0).integers(0, 256, size=(SIZE, SIZE, 3))
    rgba[..., 3] = 255
    rgba[MASKED, MASKED, 3] = 0  # transparent = the mask LoadImage gives (1 = inpaint)
    Image.fromarray(rgba, "RGBA").save(base / "input" / "example.png")
    return url, base, rgba


def _workflow(name="soft_inpainting", steps=3):
    prompt = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    prompt["1"]["inputs"]["ckpt_name"] = CHECKPOINTS[name]
    prompt["8"]["inputs"]["steps"] = steps
    prompt["11"]["inputs"]["filename_prefix"] = f"test_{uuid.uuid4().hex[:8]}"
    if "12" in prompt:  # the only-masked crop: a small working size keeps the test quick
        prompt["12"]["inputs"].update(width=128, height=128)
    return prompt


def test_object_info_lists_the_nodes(server):
    url, _, _ = server
    info = _get(f"{url}/object_info")
    sampler = info["SoftLatentBlendKSampler"]
    assert set(sampler["input"]["required"]) == {
        "model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image",
        "denoise"}
    assert set(sampler["input"]["optional"]) == {"schedule", "mask", "initial_noise_multiplier"}
    assert sampler["input"]["optional"]["schedule"][0] == "SOFT_MASK_SCHEDULE"
    assert sampler["output"] == ["LATENT"]
    schedule = info["SoftMaskSchedule"]
    assert schedule["output"] == ["SOFT_MASK_SCHEDULE"]
    assert schedule["input"]["required"]["schedule_bias"][1]["default"] == 1.0
    assert schedule["input"]["required"]["transition_contrast_boost"][1]["min"] == 1.0
    composite = info["AdaptiveDifferenceComposite"]
    assert composite["output"] == ["IMAGE", "MASK"]
    assert {"mask_influence", "difference_threshold", "difference_contrast"} <= set(composite["input"]["required"])
    assert info["SoftInpaintModelPatch"]["output"] == ["MODEL"]
    pack_nodes = {node_id for node_id, node in info.items() if node["python_module"].endswith("soft-inpainting")}
    assert pack_nodes == set(PACK_NODE_IDS)
    for node_id in pack_nodes:
        assert info[node_id]["description"], f"{node_id} has no description"
        for section in info[node_id]["input"].values():
            for name, spec in section.items():
                assert spec[1].get("tooltip"), f"{node_id}.{name} has no tooltip"


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_example_workflows_keep_unmasked_pixels_exactly(server, name):
    url, base, rgba = server
    assert_keeps_unmasked_pixels(base, rgba, _wait(url, _queue(url, _workflow(name))))


def assert_keeps_unmasked_pixels(base, rgba, entry):
    """The run of an example picture graph (composite 10, save 11) on the server's example.png succeeded, with
    the original pixels far from the masked square and other pixels inside it."""
    assert entry["status"]["status_str"] == "success", entry["status"]
    saved = entry["outputs"]["11"]["images"][0]
    result = np.asarray(Image.open(base / "output" / saved["subfolder"] / saved["filename"]).convert("RGB"))
    assert result.shape == (SIZE, SIZE, 3)
    # Far from the masked square the latent did not change, so the original pixels come back exactly.
    far = np.ones((SIZE, SIZE), dtype=bool)
    far[FAR, FAR] = False
    assert np.array_equal(result[far], rgba[..., :3][far])
    assert not np.array_equal(result[MASKED, MASKED], rgba[MASKED, MASKED, :3])
    assert entry["outputs"]["10"]["images"], "the composite node shows its mask"


def test_composite_mask_preview_survives_a_cached_rerun(server, comfy_nodes):
    """Rerunning the same prompt takes every node from the cache. ComfyUIs whose schema has
    has_intermediate_output (0.33) send the composite's mask preview again; older ones (0.8) only the output
    nodes' results."""
    from comfy_api.latest import io as comfy_io

    url, _, _ = server
    prompt = _workflow()
    first = _wait(url, _queue(url, prompt))
    rerun = _wait(url, _queue(url, prompt))
    assert first["status"]["status_str"] == rerun["status"]["status_str"] == "success", rerun["status"]
    executed = [data["nodes"] for kind, data in rerun["status"]["messages"] if kind == "execution_cached"]
    assert executed and "10" in executed[0], "the rerun did not take the composite from the cache"
    assert rerun["outputs"]["11"] == first["outputs"]["11"]
    if "has_intermediate_output" in {field.name for field in dataclasses.fields(comfy_io.Schema)}:
        assert rerun["outputs"]["10"] == first["outputs"]["10"] and first["outputs"]["10"]["images"]
    else:
        assert "10" not in rerun["outputs"]


def _saved(base, entry, node_id):
    saved = entry["outputs"][node_id]["images"][0]
    return np.asarray(Image.open(base / "output" / saved["subfolder"] / saved["filename"]).convert("RGB"))


def test_only_masked_workflow_applies_the_compositing_mask_once(server):
    """The shipped graph against A1111's paste: original + m * (crop and resize of the generated crop - original),
    with content that really changed (an identity inpaint would hide a mask applied twice)."""
    import torch

    import core

    url, base, rgba = server
    prompt = _workflow("soft_inpainting_only_masked", steps=3)
    prefix = prompt["11"]["inputs"]["filename_prefix"]
    prompt["30"] = {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": prefix + "_g"}}
    prompt["31"] = {"class_type": "MaskToImage", "inputs": {"mask": ["10", 1]}}
    prompt["32"] = {"class_type": "SaveImage", "inputs": {"images": ["31", 0], "filename_prefix": prefix + "_m"}}
    entry = _wait(url, _queue(url, prompt))
    assert entry["status"]["status_str"] == "success", entry["status"]
    result, generated = _saved(base, entry, "11").astype(float), _saved(base, entry, "30")
    mask = _saved(base, entry, "32")[..., 0] / 255.0
    original = rgba[..., :3].astype(float)
    # The box the Crop node chose, found again from where the pasted mask is non-zero, grown as Crop grows it.
    box_mask = torch.from_numpy((rgba[..., 3] == 0).astype(np.float32))[None]
    blurred = core.blur_mask(box_mask, 4.0, 4.0)
    box = core.crop_boxes(blurred, 32, 128, 128)[0]
    pasted = core.uncrop(torch.from_numpy(generated / 255.0)[None].float(), [box], SIZE, SIZE)[0].numpy() * 255
    expected = original + mask[..., None] * (pasted - original)
    band = (mask > 0.05) & (mask < 0.95)
    assert band.sum() > 100, "no transition band to measure"
    error = np.abs(result - expected)[band].mean()
    twice = np.abs(result - (original + mask[..., None] ** 2 * (pasted - original)))[band].mean()
    print(f"\nonly masked: {error:.2f} levels from A1111's composite in the band, {twice:.2f} if applied twice")
    assert error < 2.0, f"{error:.2f} levels from A1111's composite in the transition band"
    assert twice > 2 * error  # the test tells the two apart
    assert np.abs(pasted - original)[band].mean() > 8  # the content in the band really changed


def test_missing_mask_is_a_clear_error(server):
    url, _, _ = server
    prompt = _workflow()
    del prompt["8"]["inputs"]["mask"]
    entry = _wait(url, _queue(url, prompt))
    error = _error(entry)
    assert error["node_type"] == "SoftLatentBlendKSampler"
    assert "Soft inpainting needs a mask" in error["exception_message"]


def test_mask_batch_mismatch_is_a_clear_error(server):
    url, _, _ = server
    prompt = _workflow()
    prompt["20"] = {"class_type": "RepeatLatentBatch", "inputs": {"samples": ["7", 0], "amount": 2}}
    prompt["21"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": 3}}
    prompt["22"] = {"class_type": "ImageToMask", "inputs": {"image": ["21", 0], "channel": "red"}}
    prompt["8"]["inputs"]["latent_image"] = ["20", 0]
    prompt["8"]["inputs"]["mask"] = ["22", 0]
    error = _error(_wait(url, _queue(url, prompt)))
    assert error["node_type"] == "SoftLatentBlendKSampler"
    assert "batch of 3 but the latent has 2" in error["exception_message"]
    assert "comfy/samplers.py" not in "".join(error["traceback"][-2:])  # raised before sampling starts



def test_ui_workflows_are_templates_with_known_node_types(server):
    url, _, _ = server
    info = _get(f"{url}/object_info")
    templates = _get(f"{url}/workflow_templates")["soft-inpainting"]
    ui_workflows = sorted(WORKFLOWS.glob("*.json"))
    assert sorted(templates) == [path.stem for path in ui_workflows]
    for path in ui_workflows:
        served = _get(f"{url}/api/workflow_templates/soft-inpainting/{path.name}")
        assert served == json.loads(path.read_text())
        missing = {node["type"] for node in served["nodes"]} - set(info)
        assert not missing, f"{path.name}: unknown node types {missing}"
        # The template browser shows <name>.jpg beside each custom node template.
        with urllib.request.urlopen(f"{url}/api/workflow_templates/soft-inpainting/{path.stem}.jpg") as response:
            thumbnail = Image.open(io.BytesIO(response.read()))
        assert thumbnail.format == "JPEG" and min(thumbnail.size) >= 256, f"{path.stem}.jpg: {thumbnail.size}"


def test_search_aliases_where_comfyui_has_them(server, comfy_nodes):
    """Newer ComfyUIs (0.33) find the nodes by aliases such as "A1111 inpaint"; 0.8 has no such field and must
    still load the pack."""
    from comfy_api.latest import io as comfy_io

    url, _, _ = server
    info = _get(f"{url}/object_info")
    if "search_aliases" not in {field.name for field in dataclasses.fields(comfy_io.Schema)}:
        assert all(not info[node_id].get("search_aliases") for node_id in PACK_NODE_IDS)
        return
    for node_id in PACK_NODE_IDS:
        aliases = info[node_id]["search_aliases"]
        assert {"soft inpaint", "A1111 inpaint"} <= set(aliases), f"{node_id}: {aliases}"
    assert "only masked" in info["SoftInpaintCrop"]["search_aliases"]


def test_soft_inpaint_blueprint_is_listed_and_loads(server):
    """ComfyUI serves subgraphs/*.json of a custom node pack as subgraph blueprints (/global_subgraphs): one root
    node, the subgraph it instantiates, made of nodes this ComfyUI knows."""
    url, _, _ = server
    listed = {key: entry for key, entry in _get(f"{url}/global_subgraphs").items()
              if entry["info"]["node_pack"] == "custom_nodes.soft-inpainting"}
    assert [entry["name"] for entry in listed.values()] == ["Soft Inpaint"]
    [key] = listed
    blueprint = json.loads(_get(f"{url}/global_subgraphs/{key}")["data"])
    assert blueprint == json.loads((ROOT / "subgraphs" / "Soft Inpaint.json").read_text())
    [node] = blueprint["nodes"]
    [subgraph] = blueprint["definitions"]["subgraphs"]
    assert node["type"] == subgraph["id"]
    inner = {inner["type"] for inner in subgraph["nodes"]}
    assert {"SoftInpaintMaskPrep", "SoftLatentBlendKSampler", "VAEDecode", "AdaptiveDifferenceComposite"} <= inner
    assert not inner - set(_get(f"{url}/object_info")), "the blueprint uses node types this ComfyUI does not have"
    assert [slot["type"] for slot in subgraph["inputs"]] == ["MODEL", "CONDITIONING", "CONDITIONING", "IMAGE", "VAE",
                                                             "MASK"]
    assert [slot["name"] for slot in subgraph["outputs"]] == ["image", "composite_mask"]


def test_english_locale_matches_the_live_schemas(server):
    """locales/en (what tools/make_locale_en.py writes) is what this ComfyUI reports of the nodes, keyed as the
    frontend looks it up; the other locales translate it (tests/test_locales.py)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from make_locale_en import added_names, node_definitions
    finally:
        sys.path.remove(str(ROOT / "tools"))
    url, _, _ = server
    info = _get(f"{url}/object_info")
    pack = [info[node_id] for node_id in PACK_NODE_IDS]
    others = [entry for node_id, entry in info.items() if node_id not in PACK_NODE_IDS]
    english = ROOT / "locales" / "en"
    assert json.loads((english / "nodeDefs.json").read_text(encoding="utf-8")) == node_definitions(pack), \
        "locales/en/nodeDefs.json is stale: run tools/make_locale_en.py and update the translations"
    main = json.loads((english / "main.json").read_text(encoding="utf-8"))
    assert {key: main[key] for key in ("nodeCategories", "dataTypes")} == added_names(pack, others)


def test_help_pages_are_served_in_every_locale(server):
    """The frontend asks for /extensions/<pack>/docs/<node>/<locale>.md before docs/<node>.md: none is missing."""
    url, _, _ = server
    locales = sorted(path.name for path in (ROOT / "locales").iterdir() if path.is_dir())
    for node_id in PACK_NODE_IDS:
        for locale in locales:
            with urllib.request.urlopen(f"{url}/extensions/soft-inpainting/docs/{node_id}/{locale}.md") as response:
                served = response.read().decode("utf-8")
            assert served == (ROOT / "web" / "docs" / node_id / f"{locale}.md").read_text(encoding="utf-8")
