"""Inputs users reach every day, in process: odd picture sizes, masks that overshoot 0-1, bool masks,
[B,1,H,W] masks, RGBA pictures through only masked."""

import pytest
import torch
from helpers import node, sampling_setup, soft_sample, stock_sample

import core

SAMPLING = {"seed": 3, "steps": 3, "cfg": 4.0}


@pytest.fixture(scope="module")
def setup(comfy_nodes, sd15):
    return sampling_setup(comfy_nodes, sd15[0], sd15[1])


def test_a_picture_of_odd_size_composites_at_its_own_size(comfy_nodes, sd15, setup):
    model, _, vae = sd15
    image = torch.rand(1, 250, 333, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 250, 333)
    mask[:, 100:150, 140:200] = 1
    latent = {"samples": vae.encode(image)}
    assert latent["samples"].shape[-2:] == (31, 41)
    out = soft_sample(setup, mask, latent, **SAMPLING)
    decoded = vae.decode(out["samples"])
    assert decoded.shape[1:3] == (248, 328)  # the decoder gives the centre the encoder kept
    image_out, composite_mask = node(comfy_nodes, "AdaptiveDifferenceComposite").execute(
        original_image=image, inpainted_image=decoded, inpainted_latent=out, mask_influence=0.0,
        difference_threshold=0.5, difference_contrast=2.0).args
    assert image_out.shape == image.shape and composite_mask.shape == (1, 250, 333)
    # ComfyUI's encoder crops centred: 1 row above, 1 below, 2 columns left, 3 right; those stay the original.
    border = torch.ones(250, 333, dtype=torch.bool)
    border[1:249, 2:330] = False
    assert torch.equal(image_out[0][border], image[0][border]) and composite_mask[0][border].eq(0).all()
    centre = image_out[:, 1:249, 2:330]
    expected = image[:, 1:249, 2:330] + composite_mask[:, 1:249, 2:330, None] * (decoded - image[:, 1:249, 2:330])
    torch.testing.assert_close(centre, expected, rtol=0, atol=1e-6)
    assert composite_mask[0, 125, 170] == 1  # the inpainted area, where it lies in the original


def test_a_decoded_picture_of_a_wrong_size_is_a_clear_error(comfy_nodes, sd15):
    _, _, vae = sd15
    image = torch.rand(1, 64, 64, 3)
    latent = {"samples": vae.encode(image)}
    with pytest.raises(ValueError, match="original_image is 64x64 but inpainted_image is 48x48"):
        node(comfy_nodes, "AdaptiveDifferenceComposite").execute(
            original_image=image, inpainted_image=torch.rand(1, 48, 48, 3), inpainted_latent=latent,
            mask_influence=0.0, difference_threshold=0.5, difference_contrast=2.0, original_latent=latent,
            mask=torch.ones(1, 64, 64), model=sd15[0])


def _overshooting_mask():
    """A soft mask upscaled bicubically, as users make them: values from about -0.04 to 1.05."""
    small = torch.zeros(1, 1, 8, 8)
    small[..., 2:6, 2:6] = 1
    mask = torch.nn.functional.interpolate(small, size=(64, 64), mode="bicubic", align_corners=False)[:, 0]
    assert mask.min() < -0.01 and mask.max() > 1.01
    return mask


def test_overshooting_masks_give_the_clamped_result_through_sampler_and_patch(comfy_nodes, sd15, setup):
    model, _, vae = sd15
    latent = {"samples": vae.encode(torch.rand(1, 64, 64, 3, generator=torch.Generator().manual_seed(1)))}
    mask = _overshooting_mask()
    over = soft_sample(setup, mask, latent, **SAMPLING)["samples"]
    clamped = soft_sample(setup, mask.clamp(0, 1), latent, **SAMPLING)["samples"]
    assert torch.isfinite(over).all()
    torch.testing.assert_close(over, clamped, rtol=0, atol=0)
    patched = node(comfy_nodes, "SoftInpaintModelPatch").execute(model=model, mask=mask).args[0]
    via_patch = stock_sample(setup, {**latent, "noise_mask": mask[:, None]}, model=patched, **SAMPLING)["samples"]
    torch.testing.assert_close(via_patch, clamped, rtol=0, atol=0)
    # The patch without its mask reads ComfyUI's resized noise mask, overshoot and all: still finite.
    unmasked_patch = node(comfy_nodes, "SoftInpaintModelPatch").execute(model=model).args[0]
    loose = stock_sample(setup, {**latent, "noise_mask": mask[:, None]}, model=unmasked_patch, **SAMPLING)["samples"]
    assert torch.isfinite(loose).all()


def test_bool_masks_and_the_set_latent_noise_mask_layout(comfy_nodes, sd15, setup):
    model, _, vae = sd15
    latent = {"samples": vae.encode(torch.rand(1, 64, 64, 3, generator=torch.Generator().manual_seed(2)))}
    mask = torch.zeros(1, 64, 64)
    mask[:, 16:48, 16:48] = 1
    expected = soft_sample(setup, mask, latent, **SAMPLING)["samples"]
    as_bool = soft_sample(setup, mask > 0.5, latent, **SAMPLING)["samples"]
    torch.testing.assert_close(as_bool, expected, rtol=0, atol=0)
    prepared = node(comfy_nodes, "SoftInpaintMaskPrep").execute(mask=mask[:, None], blur_x=2.0, blur_y=2.0,
                                                                 rounding=False, invert=False).args[0]
    torch.testing.assert_close(prepared, core.blur_mask(mask, 2.0, 2.0), rtol=0, atol=0)


def test_rgba_picture_through_crop_and_stitch_keeps_its_alpha(comfy_nodes):
    image = torch.rand(1, 48, 64, 4, generator=torch.Generator().manual_seed(3))
    mask = torch.zeros(1, 48, 64)
    mask[:, 10:30, 20:40] = 1
    crops, _, info = node(comfy_nodes, "SoftInpaintCrop").execute(image=image, mask=mask, width=32, height=32,
                                                                    padding=4).args
    stitched = node(comfy_nodes, "SoftInpaintStitch").execute(crop=info, image=1 - crops[..., :3]).args[0]
    assert stitched.shape == image.shape
    assert torch.equal(stitched[..., 3], image[..., 3])
    assert not torch.equal(stitched[..., :3], image[..., :3])
