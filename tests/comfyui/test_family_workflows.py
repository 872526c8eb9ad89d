"""The example graphs of Flux.1 Fill, Qwen-Image and Wan 2.1 VACE through ComfyUI's HTTP API, each with the
tiny random model and VAE of its family (tiny_families), loaded by the graph's own loaders.

Their text encoders are far too large to build, so each graph gets a stand-in of the width its model takes:
- Flux.1 Fill and VACE: the tiny SD3 checkpoint's CLIP-L, whose conditioning is 4096 wide (T5-XXL's and
  UMT5-XXL's width) with a 2048-wide pooled vector (the tiny Flux Fill is built to take that, not CLIP-L's 768);
- Qwen-Image: the tests' StandInTextConditioning node (stand_in_text_encoder), 3584 wide as Qwen2.5-VL's.
"""

import json

import pytest
from test_http_api import WORKFLOWS, _queue, _wait, assert_keeps_unmasked_pixels, server
from test_video import (
    VIDEO_FRAMES,
    VIDEO_SIZE,
    assert_every_frame_keeps_unmasked_pixels,
    install,
    with_frame_outputs,
    write_example_inputs,
)
from tiny_families import NoTinyModel, build_family_model, build_family_vae

__all__ = ["server"]  # the fixture, imported so that pytest finds it here
STEPS = 3
SD3_CLIP = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_sd3.safetensors"}}


def _prompt(name):
    return json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())


def _family_files(base, directory, family, **changes):
    """(diffusion model name, VAE name) of the family's tiny model and VAE, linked into the server's models."""
    try:
        model = build_family_model(directory / f"tiny_{family}.safetensors", family, **changes)
    except NoTinyModel as error:
        pytest.skip(str(error))
    vae = build_family_vae(directory / f"tiny_{family}_vae.safetensors", family)
    return install(base, "diffusion_models", model), install(base, "vae", vae)


def _picture_prompt(name, unet, vae):
    prompt = _prompt(name)
    prompt["1"]["inputs"]["unet_name"] = unet
    prompt["13"]["inputs"]["vae_name"] = vae
    prompt["8"]["inputs"]["steps"] = STEPS
    prompt["11"]["inputs"]["filename_prefix"] = f"test_{name}"
    return prompt


def test_flux_fill_workflow_keeps_unmasked_pixels_exactly(server, comfy_nodes, tmp_path):
    url, base, rgba = server
    prompt = _picture_prompt("soft_inpainting_flux_fill", *_family_files(base, tmp_path, "flux1_fill",
                                                                          vec_in_dim=2048))
    prompt["12"] = SD3_CLIP  # in place of DualCLIPLoader's CLIP-L and T5-XXL
    prompt["3"]["inputs"]["clip"] = ["12", 1]
    assert_keeps_unmasked_pixels(base, rgba, _wait(url, _queue(url, prompt)))


def test_qwen_image_workflow_keeps_unmasked_pixels_exactly(server, comfy_nodes, tmp_path):
    url, base, rgba = server
    prompt = _picture_prompt("soft_inpainting_qwen_image", *_family_files(base, tmp_path, "qwen_image"))
    del prompt["12"]  # Load CLIP (Qwen2.5-VL 7B)
    for encoder, seed in (("3", 1), ("4", 2)):
        prompt[encoder] = {"class_type": "StandInTextConditioning", "inputs": {"width": 3584, "tokens": 8,
                                                                               "seed": seed}}
    assert_keeps_unmasked_pixels(base, rgba, _wait(url, _queue(url, prompt)))


def test_vace_workflow_keeps_unmasked_pixels_of_every_frame(comfy_server, comfy_nodes, tmp_path):
    url, base = comfy_server
    unet, vae = _family_files(base, tmp_path, "wan21_vace")
    write_example_inputs(base)
    prompt = _prompt("soft_inpainting_vace")
    prompt["1"]["inputs"]["unet_name"] = unet
    prompt["6"]["inputs"]["vae_name"] = vae
    prompt["3"] = SD3_CLIP  # in place of Load CLIP's UMT5-XXL
    for encoder in ("4", "5"):
        prompt[encoder]["inputs"]["clip"] = ["3", 1]
    prompt["17"]["inputs"].update(width=VIDEO_SIZE, height=VIDEO_SIZE, length=VIDEO_FRAMES)
    prompt["19"]["inputs"]["amount"] = VIDEO_FRAMES
    assert_every_frame_keeps_unmasked_pixels(base, _wait(url, _queue(url, with_frame_outputs(prompt, STEPS))))
