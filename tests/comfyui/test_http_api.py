"""The pack in a real ComfyUI server: /object_info, the example API workflow through /prompt, errors."""

import json
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "api" / "soft_inpainting.json"
SIZE = 192  # room for unchanged areas beyond the composite's filter and blur radius


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
    rgba[80:112, 80:112, 3] = 0  # transparent = the mask LoadImage gives (1 = inpaint)
    Image.fromarray(rgba, "RGBA").save(base / "input" / "example.png")
    return url, base, rgba


def _workflow(steps=3):
    prompt = json.loads(WORKFLOW.read_text())
    prompt["1"]["inputs"]["ckpt_name"] = "tiny_sd15.safetensors"
    prompt["7"]["inputs"]["steps"] = steps
    prompt["10"]["inputs"]["filename_prefix"] = f"test_{uuid.uuid4().hex[:8]}"
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
    for node_id in ("SoftMaskSchedule", "SoftLatentBlendKSampler", "SoftInpaintModelPatch",
                    "AdaptiveDifferenceComposite"):
        for section in info[node_id]["input"].values():
            for name, spec in section.items():
                assert spec[1].get("tooltip"), f"{node_id}.{name} has no tooltip"


def test_example_workflow_keeps_unmasked_pixels_exactly(server):
    url, base, rgba = server
    entry = _wait(url, _queue(url, _workflow()))
    assert entry["status"]["status_str"] == "success", entry["status"]
    saved = entry["outputs"]["10"]["images"][0]
    result = np.asarray(Image.open(base / "output" / saved["subfolder"] / saved["filename"]).convert("RGB"))
    assert result.shape == (SIZE, SIZE, 3)
    # Far from the masked square the latent did not change, so the original pixels come back exactly.
    far = np.ones((SIZE, SIZE), dtype=bool)
    far[24:168, 24:168] = False
    assert np.array_equal(result[far], rgba[..., :3][far])
    assert not np.array_equal(result[80:112, 80:112], rgba[80:112, 80:112, :3])
    assert entry["outputs"]["9"]["images"], "the composite node shows its mask"


def test_missing_mask_is_a_clear_error(server):
    url, _, _ = server
    prompt = _workflow()
    del prompt["7"]["inputs"]["mask"]
    entry = _wait(url, _queue(url, prompt))
    error = _error(entry)
    assert error["node_type"] == "SoftLatentBlendKSampler"
    assert "Soft inpainting needs a mask" in error["exception_message"]


def test_mask_batch_mismatch_is_a_clear_error(server):
    url, _, _ = server
    prompt = _workflow()
    prompt["20"] = {"class_type": "RepeatLatentBatch", "inputs": {"samples": ["5", 0], "amount": 2}}
    prompt["21"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": 3}}
    prompt["22"] = {"class_type": "ImageToMask", "inputs": {"image": ["21", 0], "channel": "red"}}
    prompt["7"]["inputs"]["latent_image"] = ["20", 0]
    prompt["7"]["inputs"]["mask"] = ["22", 0]
    error = _error(_wait(url, _queue(url, prompt)))
    assert error["node_type"] == "SoftLatentBlendKSampler"
    assert "batch of 3 but the latent has 2" in error["exception_message"]
    assert "comfy/samplers.py" not in "".join(error["traceback"][-2:])  # raised before sampling starts



def test_ui_workflows_are_templates_with_known_node_types(server):
    url, _, _ = server
    info = _get(f"{url}/object_info")
    templates = _get(f"{url}/workflow_templates")["soft-inpainting"]
    ui_workflows = sorted(WORKFLOW.parents[1].glob("*.json"))
    assert sorted(templates) == [path.stem for path in ui_workflows]
    for path in ui_workflows:
        served = _get(f"{url}/api/workflow_templates/soft-inpainting/{path.name}")
        assert served == json.loads(path.read_text())
        missing = {node["type"] for node in served["nodes"]} - set(info)
        assert not missing, f"{path.name}: unknown node types {missing}"
