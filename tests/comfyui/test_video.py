"""Soft inpainting of video latents [B,C,T,h,w] in a real ComfyUI, with a tiny random Wan 2.1 T2V model and VAE.

The Wan VAE encodes the first frame alone and every 4 frames after it into one latent frame: 9 pixel frames
are 3 latent frames (pixel frames 0 | 1-4 | 5-8), decoded back to 9 frames.
"""

import numpy as np
import pytest
import torch
from helpers import (
    assert_half_mask_lies_between,
    assert_one_mask_equals_stock,
    node,
    soft_sample,
    stock_sample,
)
from tiny_checkpoint import build_tiny_wan_model, build_tiny_wan_vae

FRAMES, LATENT_FRAMES = 9, 3
PIXELS = 64  # 8x8 latent
TEXT_WIDTH = 4096  # what Wan's text embedding takes (UMT5-XXL's width)


def wan_files(directory):
    """(diffusion model path, VAE path) of the tiny Wan 2.1 T2V model, built in `directory`."""
    return (build_tiny_wan_model(directory / "tiny_wan21_t2v.safetensors"),
            build_tiny_wan_vae(directory / "tiny_wan21_vae.safetensors"))


def text_conditioning(seed, tokens=8):
    """Wan's cross-attention input as CLIPTextEncode would give it, without the 5 GB text encoder."""
    return [[torch.randn(1, tokens, TEXT_WIDTH, generator=torch.Generator().manual_seed(seed)), {}]]


@pytest.fixture(scope="module")
def wan(comfy_nodes, tmp_path_factory):
    """The setup dict of test_nodes_in_process's helpers, for the tiny Wan model: loaded as UNETLoader and
    VAELoader load, 9 random frames encoded to [1,16,3,8,8]."""
    import comfy.sd
    import comfy.utils

    model_path, vae_path = wan_files(tmp_path_factory.mktemp("wan"))
    model = comfy.sd.load_diffusion_model(str(model_path))
    vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(str(vae_path)))
    image = torch.rand(FRAMES, PIXELS, PIXELS, 3, generator=torch.Generator().manual_seed(0))
    latent = comfy_nodes.NODE_CLASS_MAPPINGS["VAEEncode"]().encode(vae, image)[0]
    assert latent["samples"].shape == (1, 16, LATENT_FRAMES, PIXELS // 8, PIXELS // 8)
    return {"nodes": comfy_nodes, "model": model, "vae": vae, "positive": text_conditioning(1),
            "negative": text_conditioning(2), "image": image, "latent": latent}


def assert_kept(out, original):
    """The original latent, up to float32 rounding of ComfyUI's latent scaling in and out of the model."""
    torch.testing.assert_close(out, original, rtol=0, atol=1e-6)


def _corner_mask(frames=1):
    """1 in the top-left 16x16 pixels (2x2 latent pixels) of every frame: room for unchanged areas beyond the
    composite's filter and blur radius."""
    mask = torch.zeros(frames, PIXELS, PIXELS)
    mask[:, :16, :16] = 1
    return mask


def _latent_zero(mask):
    """Where A1111's latent mask of this (one-frame) mask is 0, per latent pixel."""
    import core

    return core.latent_mask(mask[:1], PIXELS // 8, PIXELS // 8)[0] == 0


def test_the_model_is_wan_with_its_temporal_compression(wan):
    latent_format = wan["model"].get_model_object("latent_format")
    assert type(latent_format).__name__ == "Wan21" and latent_format.latent_channels == 16
    assert wan["vae"].temporal_compression_decode() == 4


def test_unmasked_voxels_keep_the_original_exactly(wan):
    mask = _corner_mask()
    out = soft_sample(wan, mask=mask)["samples"]
    original = wan["latent"]["samples"]
    outside = _latent_zero(mask)
    assert_kept(out[..., outside], original[..., outside])
    assert not torch.allclose(out[..., ~outside], original[..., ~outside], atol=1e-2)


def test_all_one_mask_equals_stock_sampling(wan):
    assert_one_mask_equals_stock(wan, PIXELS)


def test_soft_mask_lies_between(wan):
    assert_half_mask_lies_between(wan, PIXELS)


def test_per_pixel_frame_masks_reach_the_latent_frames_they_are_encoded_into(wan):
    original = wan["latent"]["samples"]
    mask = torch.zeros(FRAMES, PIXELS, PIXELS)
    mask[6] = 1  # one frame of the last group (pixel frames 5-8): latent frame 2 is inpainted, whole
    out = soft_sample(wan, mask=mask)["samples"]
    assert_kept(out[:, :, :2], original[:, :, :2])
    full = stock_sample(wan)["samples"]
    per_latent_frame = torch.zeros(LATENT_FRAMES, PIXELS, PIXELS)
    per_latent_frame[2] = 1
    torch.testing.assert_close(soft_sample(wan, mask=per_latent_frame)["samples"], out, rtol=0, atol=0)
    assert not torch.allclose(out[:, :, 2], original[:, :, 2], atol=1e-2) and torch.isfinite(full).all()


def test_one_frame_applies_to_every_frame(wan):
    one = soft_sample(wan, mask=_corner_mask())["samples"]
    every = soft_sample(wan, mask=_corner_mask(FRAMES))["samples"]
    torch.testing.assert_close(one, every, rtol=0, atol=0)


def test_the_latent_noise_mask_of_set_latent_noise_mask_is_used(wan):
    mask = _corner_mask(FRAMES)
    masked = wan["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]().set_mask(wan["latent"], mask)[0]
    via_latent = soft_sample(wan, latent=masked)["samples"]
    torch.testing.assert_close(via_latent, soft_sample(wan, mask=mask)["samples"], rtol=0, atol=0)


def test_the_soft_samplers_output_latent_can_be_sampled_again(wan):
    out = soft_sample(wan, mask=_corner_mask())
    again = soft_sample(wan, latent={"samples": out["samples"], "noise_mask": out["noise_mask"]})
    assert again["samples"].shape == out["samples"].shape and torch.isfinite(again["samples"]).all()


def test_model_patch_with_ksampler_advanced_matches_the_soft_sampler(wan):
    mask = _corner_mask(FRAMES) * 0.7
    patched = node(wan["nodes"], "SoftInpaintModelPatch").execute(model=wan["model"], mask=mask).args[0]
    masked = wan["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]().set_mask(wan["latent"], mask)[0]
    advanced = wan["nodes"].NODE_CLASS_MAPPINGS["KSamplerAdvanced"]().sample(
        patched, "enable", 1, 4, 5.0, "euler", "normal", wan["positive"], wan["negative"], masked, 0, 4,
        "disable")[0]["samples"]
    torch.testing.assert_close(advanced, soft_sample(wan, mask=mask)["samples"], rtol=0, atol=0)


def test_model_patch_without_its_mask_blends_by_comfyuis_noise_mask(wan):
    mask = _corner_mask()
    patched = node(wan["nodes"], "SoftInpaintModelPatch").execute(model=wan["model"]).args[0]
    masked = wan["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]().set_mask(wan["latent"], mask)[0]
    out = stock_sample(wan, latent=masked, model=patched)["samples"]
    original = wan["latent"]["samples"]
    assert_kept(out[..., 3:, 3:], original[..., 3:, 3:])  # beyond ComfyUI's trilinear resize
    assert not torch.allclose(out[..., :2, :2], original[..., :2, :2], atol=1e-2)


def test_inputs_are_not_modified(wan):
    latent = {"samples": wan["latent"]["samples"].clone()}
    mask = torch.rand(FRAMES, PIXELS, PIXELS)
    before = latent["samples"].clone(), mask.clone()
    soft_sample(wan, latent=latent, mask=mask)
    assert torch.equal(latent["samples"], before[0]) and torch.equal(mask, before[1])
    assert "noise_mask" not in latent


@pytest.mark.parametrize("frames", [2, 4])
def test_a_frame_count_that_fits_no_latent_frames_is_a_clear_error(wan, frames):
    with pytest.raises(ValueError, match=f"mask: {frames} frames do not make 3 latent frames"):
        soft_sample(wan, mask=torch.ones(frames, PIXELS, PIXELS))


def _decode(wan, latent):
    """VAEDecode's frames [F,H,W,C], as a video graph hands them on."""
    return wan["nodes"].NODE_CLASS_MAPPINGS["VAEDecode"]().decode(wan["vae"], latent)[0]


def composite(wan, original, decoded, latent, **inputs):
    return node(wan["nodes"], "AdaptiveDifferenceComposite").execute(
        original_image=original, inpainted_image=decoded, inpainted_latent=latent, mask_influence=0.0,
        difference_threshold=0.5, difference_contrast=2.0, **inputs).args


def test_composite_restores_unmasked_pixels_in_every_frame(wan):
    out = soft_sample(wan, mask=_corner_mask())
    decoded = _decode(wan, out)
    assert decoded.shape == wan["image"].shape
    image, composite_mask = composite(wan, wan["image"], decoded, out)
    assert image.shape == wan["image"].shape and composite_mask.shape == (FRAMES, PIXELS, PIXELS)
    assert composite_mask[:, 8, 8].min() == 1.0  # the inpainted corner is taken whole, in every frame
    keep = composite_mask == 0
    assert (keep.float().mean(dim=(1, 2)) > 0.2).all()  # far from the corner nothing changed, in every frame
    assert torch.equal(image[keep], wan["image"][keep])
    assert not torch.equal(decoded[keep], wan["image"][keep])  # the VAE round trip alone would differ


def test_composite_of_per_frame_masks_keeps_the_untouched_frames_whole(wan):
    mask = torch.zeros(FRAMES, PIXELS, PIXELS)
    mask[6] = 1  # latent frame 2, decoded to pixel frames 5-8
    out = soft_sample(wan, mask=mask)
    image, composite_mask = composite(wan, wan["image"], _decode(wan, out), out)
    assert composite_mask[:5].max() == 0 and composite_mask[5:].min() == 1
    assert torch.equal(image[:5], wan["image"][:5])


def test_composite_explicit_inputs_match_carried_ones(wan):
    mask = _corner_mask(FRAMES)
    out = soft_sample(wan, mask=mask)
    decoded = _decode(wan, out)
    carried = composite(wan, wan["image"], decoded, out)
    explicit = composite(wan, wan["image"], decoded, {"samples": out["samples"]}, original_latent=wan["latent"],
                         mask=mask, model=wan["model"])
    for a, b in zip(carried, explicit, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_frames_and_size_the_decoder_did_not_give_back_are_the_originals(wan):
    """8 frames of 66x70 encode to 2 latent frames of 8x8 (the encoder drops 3 frames and crops the size,
    centred) and decode to 5 frames of 64x64: the composite gives 8 frames of 66x70 back."""
    video = torch.rand(8, 66, 70, 3, generator=torch.Generator().manual_seed(5))
    latent = wan["nodes"].NODE_CLASS_MAPPINGS["VAEEncode"]().encode(wan["vae"], video)[0]
    assert latent["samples"].shape[2:] == (2, 8, 8)
    out = soft_sample(wan, latent=latent, mask=torch.ones(1, 66, 70))
    decoded = _decode(wan, out)
    assert decoded.shape == (5, 64, 64, 3)
    image, composite_mask = composite(wan, video, decoded, out)
    assert image.shape == video.shape and composite_mask.shape == video.shape[:3]
    assert torch.equal(image[5:], video[5:]) and composite_mask[5:].max() == 0
    assert torch.equal(image[:5, 0], video[:5, 0]) and torch.equal(image[:5, :, :3], video[:5, :, :3])
    torch.testing.assert_close(image[:5, 1:65, 3:67], decoded, rtol=0, atol=1e-6)  # all inpainted: mask 1


@pytest.mark.parametrize("frames, message", [
    (8, "inpainted_image has 8 frames, which 1 video.* of 3 latent frames do not decode to"),
    (4, "inpainted_image has 4 frames"),
])
def test_a_decoded_frame_count_that_is_not_the_latents_is_a_clear_error(wan, frames, message):
    out = soft_sample(wan, mask=_corner_mask())
    decoded = _decode(wan, out)[:frames]
    with pytest.raises(ValueError, match=message):
        composite(wan, wan["image"], decoded, out)


def test_an_original_video_of_other_frames_is_a_clear_error(wan):
    out = soft_sample(wan, mask=_corner_mask())
    with pytest.raises(ValueError, match="original_image has 14 frames but the 9 decoded frames come from 9 to 12"):
        composite(wan, torch.rand(14, PIXELS, PIXELS, 3), _decode(wan, out), out)


def test_a_crop_with_a_video_latent_is_a_clear_error(wan):
    out = soft_sample(wan, mask=_corner_mask())
    with pytest.raises(ValueError, match="crop: only masked"):
        composite(wan, wan["image"], _decode(wan, out), out, crop={"boxes": [], "original": wan["image"]})


VIDEO_SIZE, VIDEO_FRAMES = 128, 5  # 2 latent frames of 16x16
VIDEO_MASKED = slice(56, 72)


def write_example_video(path):
    """A 5-frame mp4 (ComfyUI's LoadVideo decodes it; the test compares with what it decoded, not with these)."""
    import av

    frames = np.random.default_rng(1).integers(0, 256, size=(VIDEO_FRAMES, VIDEO_SIZE, VIDEO_SIZE, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width = stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def install(base, folder, path):
    """Link a model file into the server's models/<folder>; returns its name for the loader."""
    (base / "models" / folder).mkdir(exist_ok=True)
    (base / "models" / folder / path.name).symlink_to(path)
    return path.name


def write_example_inputs(base):
    """input/example.mp4 and the frame whose painted (transparent) square is the mask, example_frame.png."""
    from PIL import Image

    write_example_video(base / "input" / "example.mp4")
    frame = np.zeros((VIDEO_SIZE, VIDEO_SIZE, 4), dtype=np.uint8)
    frame[..., 3] = 255
    frame[VIDEO_MASKED, VIDEO_MASKED, 3] = 0  # transparent = the mask LoadImage gives
    Image.fromarray(frame, "RGBA").save(base / "input" / "example_frame.png")


def with_frame_outputs(prompt, steps=3):
    """A video graph (loaded video at node 13, sampler 8, composite 10, save 11) run in `steps` steps, saving
    what LoadVideo decoded (node 30) and the compositing mask a PNG per frame (node 32) as well."""
    import uuid

    prompt["8"]["inputs"]["steps"] = steps
    prefix = f"test_{uuid.uuid4().hex[:8]}"
    prompt["11"]["inputs"]["filename_prefix"] = prefix
    # What LoadVideo decoded, saved the same lossless way, to compare the composite's frames with.
    prompt["30"] = {"class_type": "SaveAnimatedWEBP", "inputs": {**prompt["11"]["inputs"], "images": ["13", 0],
                                                                 "filename_prefix": prefix + "_loaded"}}
    prompt["31"] = {"class_type": "MaskToImage", "inputs": {"mask": ["10", 1]}}
    # One PNG a frame: animated WebP merges identical frames, as the mask's are within a latent frame.
    prompt["32"] = {"class_type": "SaveImage", "inputs": {"images": ["31", 0], "filename_prefix": prefix + "_mask"}}
    return prompt


def _video_prompt(base, tmp_path):
    """The shipped Wan graph with the tiny model and VAE. UMT5-XXL is far too large: the text encoder is the tiny
    SD3 checkpoint's CLIP-L, whose conditioning is as wide (4096) as what Wan's text embedding takes."""
    import json

    from test_http_api import WORKFLOWS

    model, vae = wan_files(tmp_path)
    write_example_inputs(base)
    prompt = json.loads((WORKFLOWS / "api" / "soft_inpainting_video.json").read_text())
    prompt["1"]["inputs"]["unet_name"] = install(base, "diffusion_models", model)
    prompt["6"]["inputs"]["vae_name"] = install(base, "vae", vae)
    prompt["3"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_sd3.safetensors"}}
    for encoder in ("4", "5"):
        prompt[encoder]["inputs"]["clip"] = ["3", 1]
    return with_frame_outputs(prompt)


def _saved(base, saved):
    """The file of one entry of a node's "images" output (in output/, or temp/ for a preview)."""
    return base / saved["type"] / saved["subfolder"] / saved["filename"]


def _webp_frames(base, entry, node_id):
    from PIL import Image, ImageSequence

    with Image.open(_saved(base, entry["outputs"][node_id]["images"][0])) as image:
        return np.stack([np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)])


def assert_every_frame_keeps_unmasked_pixels(base, entry):
    """The run of a graph of with_frame_outputs succeeded; every frame has the decoded video's pixels wherever
    its compositing mask is 0 (far from the masked square), and changed inside the square."""
    from PIL import Image

    assert entry["status"]["status_str"] == "success", entry["status"]
    result, loaded = _webp_frames(base, entry, "11"), _webp_frames(base, entry, "30")
    assert result.shape == loaded.shape == (VIDEO_FRAMES, VIDEO_SIZE, VIDEO_SIZE, 3)
    keep = np.stack([np.asarray(Image.open(_saved(base, saved)))[..., 0] == 0
                     for saved in entry["outputs"]["32"]["images"]])  # where the compositing mask is 0
    assert (keep.mean(axis=(1, 2)) > 0.2).all()  # far from the masked square, in every frame
    assert np.array_equal(result[keep], loaded[keep])
    assert all(not np.array_equal(result[t, VIDEO_MASKED, VIDEO_MASKED], loaded[t, VIDEO_MASKED, VIDEO_MASKED])
               for t in range(VIDEO_FRAMES))


def test_the_video_workflow_keeps_unmasked_pixels_of_every_frame_over_http(comfy_server, tmp_path):
    from PIL import Image
    from test_http_api import _queue, _wait

    url, base = comfy_server
    entry = _wait(url, _queue(url, _video_prompt(base, tmp_path)))
    assert_every_frame_keeps_unmasked_pixels(base, entry)
    # The composite previews the video's compositing mask as one sheet of 4 evenly spaced frames (0, 1, 3, 4 of 5).
    [preview] = entry["outputs"]["10"]["images"]
    frames = [np.asarray(Image.open(_saved(base, saved)))[..., 0] for saved in entry["outputs"]["32"]["images"]]
    sheet = np.asarray(Image.open(_saved(base, preview)).convert("L"))
    assert np.array_equal(sheet, np.concatenate([frames[t] for t in (0, 1, 3, 4)], axis=1))
