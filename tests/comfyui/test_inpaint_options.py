"""The A1111 inpaint-option nodes and other model families, in process with real ComfyUI objects."""

import pytest
import torch
from helpers import node, sampling_setup, soft_sample, text_conditioning

import core

PIXELS = 64


def _picture(batch=2, pixels=PIXELS, seed=0):
    return torch.rand(batch, pixels, pixels, 3, generator=torch.Generator().manual_seed(seed))


def _square_mask(pixels=PIXELS, start=16, end=48):
    mask = torch.zeros(1, pixels, pixels)
    mask[:, start:end, start:end] = 1.0
    return mask


def _soft_sample(comfy_nodes, model, clip, latent, scheduler="simple", **options):
    return soft_sample(sampling_setup(comfy_nodes, model, clip, latent), seed=3, cfg=4.0, scheduler=scheduler,
                       **options)


def test_mask_prep_is_a1111s_order_and_blur(comfy_nodes):
    mask = torch.rand(2, 40, 50, generator=torch.Generator().manual_seed(1))
    out = node(comfy_nodes, "SoftInpaintMaskPrep").execute(mask=mask, blur_x=3.0, blur_y=1.5, rounding=True,
                                                       invert=True).args[0]
    expected = core.blur_mask(1 - (mask > 128 / 255).float(), 3.0, 1.5)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    assert out.shape == mask.shape
    single = node(comfy_nodes, "SoftInpaintMaskPrep").execute(mask=mask[0], blur_x=0.0, blur_y=0.0, rounding=False,
                                                          invert=False).args[0]
    torch.testing.assert_close(single, mask[:1])


@pytest.mark.parametrize("mode", ["fill", "original", "latent noise", "latent nothing"])
def test_fill_modes(comfy_nodes, sd15, mode):
    model, _, vae = sd15
    image, mask = _picture(), _square_mask()
    latent, filled = node(comfy_nodes, "SoftInpaintFill").execute(image=image, mask=mask, vae=vae, masked_content=mode,
                                                             seed=5, model=model).args
    assert torch.equal(latent["noise_mask"], mask[:, None])
    outside = (mask == 0).expand(2, -1, -1)
    assert torch.equal(filled[outside], image[outside])  # unmasked pixels untouched in every mode
    original_latent = vae.encode(image)
    scale = model.get_model_object("latent_format")
    hole = (slice(None), slice(None), slice(3, 5), slice(3, 5))  # deep inside the mask, at latent size
    edge_free = (slice(None), slice(None), slice(0, 1), slice(0, 1))
    if mode == "original":
        assert torch.equal(filled, image) and torch.equal(latent["samples"], original_latent)
        return
    # A1111 fills the pixels for the latent modes too, so every mode but "original" encodes the filled picture.
    torch.testing.assert_close(filled, core.fill_masked_pixels(image, mask))
    filled_latent = vae.encode(filled)
    if mode == "fill":
        assert torch.equal(latent["samples"], filled_latent)
    elif mode == "latent nothing":
        torch.testing.assert_close(scale.process_in(latent["samples"])[hole], torch.zeros(2, 4, 2, 2))
        torch.testing.assert_close(latent["samples"][edge_free], filled_latent[edge_free])
    else:
        import comfy.sample

        noise = comfy.sample.prepare_noise(original_latent, 5)
        torch.testing.assert_close(scale.process_in(latent["samples"])[hole], noise[hole], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(latent["samples"][edge_free], filled_latent[edge_free])


def test_latent_fill_needs_the_model(comfy_nodes, sd15):
    _, _, vae = sd15
    with pytest.raises(ValueError, match="needs the model"):
        node(comfy_nodes, "SoftInpaintFill").execute(image=_picture(), mask=_square_mask(), vae=vae,
                                                masked_content="latent noise", seed=0)


def test_initial_noise_multiplier_scales_the_starting_noise(comfy_nodes, sd15):
    import comfy.sample

    model, clip, vae = sd15
    latent = {"samples": vae.encode(_picture())}
    positive, negative = text_conditioning(comfy_nodes, clip)
    soft = _soft_sample(comfy_nodes, model, clip, latent, mask=torch.ones(1, PIXELS, PIXELS),
                        initial_noise_multiplier=0.6, scheduler="normal")["samples"]
    noise = comfy.sample.prepare_noise(latent["samples"], 3) * 0.6
    stock = comfy.sample.sample(model, noise, 4, 4.0, "euler", "normal", positive, negative, latent["samples"],
                                denoise=1.0, seed=3)
    torch.testing.assert_close(soft, stock, rtol=1e-3, atol=1e-4)
    plain = _soft_sample(comfy_nodes, model, clip, latent, mask=torch.ones(1, PIXELS, PIXELS), scheduler="normal")
    assert not torch.allclose(plain["samples"], soft, atol=1e-2)


def test_crop_sample_composite_stitch_keeps_everything_outside_exactly(comfy_nodes, sd15):
    model, clip, vae = sd15
    pixels = 160
    image = _picture(pixels=pixels)
    masks = torch.zeros(2, pixels, pixels)
    masks[0, 20:40, 30:60] = 1.0
    masks[1, 100:140, 90:120] = 1.0
    crops, crop_masks, info = node(comfy_nodes, "SoftInpaintCrop").execute(image=image, mask=masks, width=96,
                                                                      height=96, padding=24).args
    assert crops.shape == (2, 96, 96, 3) and crop_masks.shape == (2, 96, 96)
    assert info.boxes[0] != info.boxes[1]
    latent = {"samples": vae.encode(crops)}
    out = _soft_sample(comfy_nodes, model, clip, latent, mask=crop_masks)
    decoded = vae.decode(out["samples"])
    stitched, full_mask = node(comfy_nodes, "AdaptiveDifferenceComposite").execute(
        original_image=image, inpainted_image=decoded, inpainted_latent=out, mask_influence=0.0,
        difference_threshold=0.5, difference_contrast=2.0, crop=info).args
    assert stitched.shape == image.shape and full_mask.shape == (2, pixels, pixels)
    for sample, (x1, y1, x2, y2) in enumerate(info.boxes):
        outside = torch.ones(pixels, pixels, dtype=torch.bool)
        outside[y1:y2, x1:x2] = False
        assert torch.equal(stitched[sample][outside], image[sample][outside])
        assert not torch.equal(stitched[sample][~outside], image[sample][~outside])
    # A1111's composite: the generated crops pasted back into their boxes, through the mask, once.
    pasted = core.uncrop(decoded, info.boxes, pixels, pixels)
    expected = image + full_mask[..., None] * (pasted - image)
    in_transition = (full_mask > 0.05) & (full_mask < 0.95)
    assert in_transition.any()
    torch.testing.assert_close(stitched, expected, rtol=0, atol=1e-5)
    # The plain Stitch pastes through the Crop's mask: exact wherever that mask is 0.
    plain = node(comfy_nodes, "SoftInpaintStitch").execute(crop=info, image=decoded).args[0]
    assert torch.equal(plain[masks == 0], image[masks == 0])


def test_stitch_rejects_a_wrong_batch(comfy_nodes):
    image, mask = _picture(), _square_mask()
    crops, _, info = node(comfy_nodes, "SoftInpaintCrop").execute(image=image, mask=mask, width=32, height=32,
                                                             padding=4).args
    with pytest.raises(ValueError, match="batch of 1 but the crop info has 2"):
        node(comfy_nodes, "SoftInpaintStitch").execute(crop=info, image=crops[:1])


def test_flow_model_soft_inpainting(comfy_nodes, sd3):
    model, clip, vae = sd3
    image = _picture(batch=1)
    latent = {"samples": vae.encode(image)}
    assert latent["samples"].shape[1] == 16
    mask = _square_mask()
    out = _soft_sample(comfy_nodes, model, clip, latent, mask=mask)["samples"]
    assert torch.isfinite(out).all()
    outside = core.latent_mask(mask, *out.shape[-2:])[0] == 0
    torch.testing.assert_close(out[..., outside], latent["samples"][..., outside], rtol=1e-6, atol=1e-6)


def test_flow_sigma_space_sd_preserves_more_than_raw(comfy_nodes, sd3):
    model, clip, vae = sd3
    latent = {"samples": vae.encode(_picture(batch=1))}
    half = torch.full((1, PIXELS, PIXELS), 0.5)
    schedule = node(comfy_nodes, "SoftMaskSchedule")
    results = {}
    for space in ("sd", "raw"):
        chosen = schedule.execute(schedule_bias=1.0, preservation_strength=0.5, transition_contrast_boost=4.0,
                                  sigma_space=space).args[0]
        results[space] = _soft_sample(comfy_nodes, model, clip, latent, mask=half, schedule=chosen)["samples"]
    change = {space: (out - latent["samples"]).norm() for space, out in results.items()}
    # Flow sigmas lie in 0-1; read raw, sigma ** bias * strength stays small and little is preserved.
    assert change["sd"] < 0.9 * change["raw"], change


def test_v_prediction_model(comfy_nodes, sd15):
    from comfy_extras.nodes_model_advanced import ModelSamplingDiscrete

    model, clip, vae = sd15
    v_model = ModelSamplingDiscrete().patch(model, "v_prediction", False)[0]
    latent = {"samples": vae.encode(_picture(batch=1))}
    zero = _soft_sample(comfy_nodes, v_model, clip, latent, mask=torch.zeros(1, PIXELS, PIXELS))["samples"]
    torch.testing.assert_close(zero, latent["samples"], rtol=1e-4, atol=1e-4)
    positive, negative = text_conditioning(comfy_nodes, clip)
    one = _soft_sample(comfy_nodes, v_model, clip, latent, mask=torch.ones(1, PIXELS, PIXELS))["samples"]
    stock = comfy_nodes.common_ksampler(v_model, 3, 4, 4.0, "euler", "simple", positive, negative, latent)[0]
    torch.testing.assert_close(one, stock["samples"], rtol=1e-3, atol=1e-4)


def test_composite_uses_each_models_latent_scale(comfy_nodes, sd15):
    import comfy.latent_formats

    model, _, vae = sd15
    sdxl_scaled = model.clone()
    sdxl_scaled.add_object_patch("latent_format", comfy.latent_formats.SDXL())
    image = _picture(batch=1, pixels=128)
    original = vae.encode(image)
    # A change of 3 unscaled units: about the default threshold once scaled, so the scale decides.
    change = torch.zeros_like(original)
    change[:, 0, 4:12, 4:12] = 3.0
    inpainted = {"samples": original + change}
    mask = _square_mask(128, 32, 96)
    masks = {}
    for name, patched in (("sd15", model), ("sdxl", sdxl_scaled)):
        masks[name] = node(comfy_nodes, "AdaptiveDifferenceComposite").execute(
            original_image=image, inpainted_image=vae.decode(inpainted["samples"]), inpainted_latent=inpainted,
            original_latent={"samples": original}, mask=mask, model=patched, mask_influence=0.0,
            difference_threshold=0.5, difference_contrast=2.0).args[1]
        scale = patched.get_model_object("latent_format").scale_factor
        latent_mask = core.adaptive_latent_mask(mask[:, None, ::8, ::8], original * scale,
                                                inpainted["samples"] * scale, core.SoftInpaintSettings())
        torch.testing.assert_close(masks[name], core.pixel_composite_mask(latent_mask, 128, 128), rtol=0, atol=0)
    assert masks["sdxl"].sum() < 0.9 * masks["sd15"].sum()  # SDXL's smaller scale: the same change counts less
