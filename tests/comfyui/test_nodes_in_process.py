"""The pack's nodes executed in this process with real ComfyUI objects and a tiny random SD1.5 model."""

import pytest
import torch
from helpers import (
    CFG,
    STEPS,
    assert_half_mask_lies_between,
    assert_one_mask_equals_stock,
    node,
    sampling_setup,
    soft_sample,
    stock_sample,
)
from pack_nodes import PACK_NODE_IDS

import core

SIZE = 8  # latent size: 64x64 pixels


def _setup(comfy_nodes, sd15, latent_size):
    model, clip, vae = sd15
    image = torch.rand(2, latent_size * 8, latent_size * 8, 3, generator=torch.Generator().manual_seed(0))
    return {**sampling_setup(comfy_nodes, model, clip, {"samples": vae.encode(image)}), "vae": vae, "image": image}


@pytest.fixture(scope="module")
def setup(comfy_nodes, sd15):
    return _setup(comfy_nodes, sd15, SIZE)


@pytest.fixture(scope="module")
def large(comfy_nodes, sd15):
    """A 192x192 picture: room for unchanged areas beyond the composite's filter and blur radius."""
    return _setup(comfy_nodes, sd15, 24)


def _centre_mask(pixels, half_width):
    mask = torch.zeros(1, pixels, pixels)
    mask[:, pixels // 2 - half_width:pixels // 2 + half_width, pixels // 2 - half_width:pixels // 2 + half_width] = 1
    return mask


def test_nodes_are_registered(comfy_nodes):
    for node_id in PACK_NODE_IDS:
        assert node_id in comfy_nodes.NODE_CLASS_MAPPINGS
        assert comfy_nodes.NODE_DISPLAY_NAME_MAPPINGS[node_id]


def test_schedule_node_validates(setup):
    schedule_node = node(setup["nodes"], "SoftMaskSchedule")
    schedule = schedule_node.execute(schedule_bias=2.0, preservation_strength=1.0,
                                     transition_contrast_boost=8.0).args[0]
    settings = schedule.settings
    assert schedule.sigma_space == "sd"
    assert (settings.schedule_bias, settings.preservation_strength, settings.transition_contrast_boost) == (2, 1, 8)
    with pytest.raises(ValueError, match="transition_contrast_boost"):
        schedule_node.execute(schedule_bias=1.0, preservation_strength=0.5, transition_contrast_boost=0.5)


def test_zero_mask_leaves_the_latent_unchanged(setup):
    out = soft_sample(setup, mask=torch.zeros(1, 64, 64))
    torch.testing.assert_close(out["samples"], setup["latent"]["samples"], rtol=1e-6, atol=1e-6)


def test_one_mask_equals_the_stock_sampler_without_mask(setup):
    assert_one_mask_equals_stock(setup, SIZE * 8)


def test_soft_mask_lies_between(setup):
    assert_half_mask_lies_between(setup, SIZE * 8)


def test_per_sample_masks_and_any_mask_size(setup):
    masks = torch.stack([torch.zeros(50, 70), torch.ones(50, 70)])  # not the image size: resized to the latent
    out = soft_sample(setup, mask=masks)["samples"]
    torch.testing.assert_close(out[0], setup["latent"]["samples"][0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out[1], stock_sample(setup)["samples"][1], rtol=1e-3, atol=1e-4)


def test_noise_mask_of_the_latent_is_used(setup):
    set_mask = setup["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]()
    mask = torch.zeros(1, 64, 64)
    mask[:, 16:48, 16:48] = 1
    masked_latent = set_mask.set_mask(setup["latent"], mask)[0]
    via_latent = soft_sample(setup, latent=masked_latent)["samples"]
    via_input = soft_sample(setup, mask=mask)["samples"]
    torch.testing.assert_close(via_latent, via_input, rtol=0, atol=0)


def test_denoise_below_one(setup):
    mask = torch.zeros(1, 64, 64)
    mask[:, 16:48, 16:48] = 1
    half = soft_sample(setup, mask=mask, denoise=0.5)["samples"]
    full = soft_sample(setup, mask=mask)["samples"]
    original = setup["latent"]["samples"]
    assert (half - original).norm() < (full - original).norm()
    assert torch.allclose(half[..., 0, 0], original[..., 0, 0], atol=1e-3)  # far from the mask: kept


def test_inputs_are_not_modified(setup):
    latent = {"samples": setup["latent"]["samples"].clone()}
    mask = torch.rand(2, 64, 64)
    before = latent["samples"].clone(), mask.clone()
    out = soft_sample(setup, latent=latent, mask=mask)
    assert torch.equal(latent["samples"], before[0]) and torch.equal(mask, before[1])
    assert "noise_mask" not in latent
    image = setup["vae"].decode(out["samples"])
    image_before = image.clone()
    node(setup["nodes"], "AdaptiveDifferenceComposite").execute(
        original_image=setup["image"], inpainted_image=image, inpainted_latent=out, mask_influence=0.0,
        difference_threshold=0.5, difference_contrast=2.0)
    assert torch.equal(image, image_before)


@pytest.mark.parametrize("mask, message", [
    (torch.zeros(3, 64, 64), "batch of 3 but the latent has 2"),
    (torch.zeros(1, 3, 64, 64), r"must be \[H,W\], \[B,H,W\] or \[B,1,H,W\]"),
    (torch.zeros(64), r"must be \[H,W\], \[B,H,W\] or \[B,1,H,W\]"),
    (torch.full((1, 64, 64), float("nan")), "NaN"),
    (torch.zeros(1, 0, 64), "empty"),
])
def test_bad_masks_raise_clear_errors(setup, mask, message):
    with pytest.raises(ValueError, match=message):
        soft_sample(setup, mask=mask)


def test_missing_mask_raises_a_clear_error(setup):
    with pytest.raises(ValueError, match="Soft inpainting needs a mask"):
        soft_sample(setup, mask=None)


def test_model_patch_with_ksampler_advanced_matches_the_soft_sampler(setup):
    mask = torch.zeros(1, 64, 64)
    mask[:, 8:40, 8:56] = 0.7
    patched = node(setup["nodes"], "SoftInpaintModelPatch").execute(model=setup["model"], mask=mask).args[0]
    masked_latent = setup["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]().set_mask(setup["latent"], mask)[0]
    advanced = setup["nodes"].NODE_CLASS_MAPPINGS["KSamplerAdvanced"]().sample(
        patched, "enable", 1, STEPS, CFG, "euler", "normal", setup["positive"], setup["negative"], masked_latent,
        0, STEPS, "disable")[0]["samples"]
    torch.testing.assert_close(advanced, soft_sample(setup, mask=mask)["samples"], rtol=0, atol=0)


def test_model_patch_without_noise_mask_raises(setup):
    patched = node(setup["nodes"], "SoftInpaintModelPatch").execute(model=setup["model"]).args[0]
    with pytest.raises(ValueError, match="Soft inpainting needs a mask"):
        stock_sample(setup, model=patched)


def test_composes_with_other_post_cfg_patches_and_patches_once(setup):
    calls = []

    def recording(args):
        calls.append(args["sigma"])
        return args["denoised"]

    model = setup["model"].clone()
    model.set_model_sampler_post_cfg_function(recording)
    mask = torch.zeros(1, 64, 64)
    out = soft_sample(setup, mask=mask, model=model)["samples"]
    assert len(calls) == STEPS  # the other patch still runs, once per model call
    # Patching a soft-inpainting model again replaces the blend: it is not applied twice.
    twice = node(setup["nodes"], "SoftInpaintModelPatch").execute(model=model).args[0]
    torch.testing.assert_close(soft_sample(setup, mask=mask, model=twice)["samples"], out, rtol=0, atol=0)


# These samplers stop at the smallest non-zero sigma, so their result keeps that much noise everywhere,
# with or without soft inpainting.
STOP_ABOVE_SIGMA_ZERO = {"dpm_fast", "dpm_adaptive", "uni_pc", "uni_pc_bh2"}


def test_every_sampler_runs_and_keeps_unmasked_latent(setup, comfy_nodes):
    import comfy.samplers

    original = setup["latent"]["samples"]
    mask = torch.zeros(1, 64, 64)
    mask[:, 24:40, 24:40] = 1
    masked_latent = setup["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]().set_mask(setup["latent"], mask)[0]
    # Where A1111's latent mask is 0 (its bicubic resize reaches further than ComfyUI's bilinear one).
    outside = core.latent_mask(mask, SIZE, SIZE)[0] == 0
    failures = []
    for sampler in comfy.samplers.KSampler.SAMPLERS:
        out = soft_sample(setup, mask=mask, sampler=sampler)["samples"][..., outside]
        stock = stock_sample(setup, latent=masked_latent, sampler=sampler)["samples"][..., outside]
        expected = stock if sampler in STOP_ABOVE_SIGMA_ZERO else original[..., outside]
        if not torch.isfinite(out).all():
            failures.append(f"{sampler}: not finite")
        elif not torch.allclose(out, expected, rtol=1e-4, atol=1e-4):
            failures.append(f"{sampler}: changed the unmasked latent by {(out - expected).abs().max():.3g}")
        elif not torch.allclose(out, stock, rtol=1e-4, atol=1e-4):
            failures.append(f"{sampler}: differs from the stock sampler where the mask is 0")
    assert not failures, "\n".join(failures)


def test_composite_restores_original_pixels_where_nothing_changed(large):
    out = soft_sample(large, mask=_centre_mask(192, 16))
    decoded = large["vae"].decode(out["samples"])
    image, composite_mask = node(large["nodes"], "AdaptiveDifferenceComposite").execute(
        original_image=large["image"], inpainted_image=decoded, inpainted_latent=out, mask_influence=0.0,
        difference_threshold=0.5, difference_contrast=2.0).args
    assert composite_mask.shape == (2, 192, 192) and image.shape == large["image"].shape
    assert composite_mask[:, 96, 96].min() == 1.0  # the inpainted centre is taken whole
    keep = composite_mask == 0
    assert keep.float().mean() > 0.3  # far from the inpainted square nothing changed
    assert torch.equal(image[keep], large["image"][keep])
    assert not torch.equal(decoded[keep], large["image"][keep])  # the VAE round trip alone would differ


def test_composite_explicit_inputs_match_carried_ones(setup):
    mask = _centre_mask(64, 8)
    out = soft_sample(setup, mask=mask)
    decoded = setup["vae"].decode(out["samples"])
    composite = node(setup["nodes"], "AdaptiveDifferenceComposite")
    common = {"original_image": setup["image"], "inpainted_image": decoded, "mask_influence": 0.5,
              "difference_threshold": 1.0, "difference_contrast": 4.0}
    carried = composite.execute(inpainted_latent=out, **common).args
    explicit = composite.execute(inpainted_latent={"samples": out["samples"]}, original_latent=setup["latent"],
                            mask=mask, model=setup["model"], **common).args
    for a, b in zip(carried, explicit, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_composite_measures_distance_in_the_scaled_latent_space(setup):
    # The same latents: a threshold in unscaled units would keep more original pixels than A1111 does.
    mask = torch.ones(1, 64, 64)
    out = soft_sample(setup, mask=mask)
    decoded = setup["vae"].decode(out["samples"])
    composite = node(setup["nodes"], "AdaptiveDifferenceComposite")
    scale = setup["model"].get_model_object("latent_format").scale_factor
    _, composite_mask = composite.execute(original_image=setup["image"], inpainted_image=decoded, inpainted_latent=out,
                                     mask_influence=0.0, difference_threshold=0.5, difference_contrast=2.0).args
    scaled = core.adaptive_latent_mask(mask[:, None, :SIZE, :SIZE].expand(2, 1, SIZE, SIZE),
                                       setup["latent"]["samples"] * scale, out["samples"] * scale,
                                       core.SoftInpaintSettings())
    torch.testing.assert_close(composite_mask, core.pixel_composite_mask(scaled, 64, 64), rtol=0, atol=0)


def test_composite_without_carried_data_asks_for_inputs(setup):
    with pytest.raises(ValueError, match="needs the original_latent"):
        node(setup["nodes"], "AdaptiveDifferenceComposite").execute(
            original_image=setup["image"], inpainted_image=setup["image"],
            inpainted_latent={"samples": setup["latent"]["samples"]}, mask_influence=0.0,
            difference_threshold=0.5, difference_contrast=2.0)


def test_inpainting_model_still_gets_the_real_mask(comfy_nodes, sd15_inpaint):
    model, clip, vae = sd15_inpaint
    setup = _setup(comfy_nodes, (model, clip, vae), SIZE)
    mask = _centre_mask(64, 16)
    latent = comfy_nodes.NODE_CLASS_MAPPINGS["VAEEncodeForInpaint"]().encode(vae, setup["image"], mask, 0)[0]
    seen_masks = []

    def record_concat(apply_model, args):
        seen_masks.append(args["c"]["c_concat"][:, 0].clone())
        return apply_model(args["input"], args["timestep"], **args["c"])

    recording = model.clone()
    recording.set_model_unet_function_wrapper(record_concat)
    out = soft_sample(setup, latent=latent, model=recording)["samples"]
    assert torch.isfinite(out).all() and seen_masks
    expected = torch.nn.functional.interpolate(mask[None], size=(SIZE, SIZE), mode="bilinear")[0].round()
    for seen in seen_masks:
        torch.testing.assert_close(seen, expected.expand_as(seen), rtol=0, atol=0)
