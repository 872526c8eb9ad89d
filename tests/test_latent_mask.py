"""A1111's latent mask, inpainting-model mask and soft masked picture."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from core import conditioning_mask, latent_mask, mask_to_8bit, soft_masked_pixels


def _a1111_latent_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A1111's own steps, written out: 8-bit L picture, convert("RGB"), default resize, first channel / 255."""
    picture = Image.fromarray(mask).convert("RGB").resize((width, height))
    return np.moveaxis(np.array(picture, dtype=np.float32), 2, 0)[0] / 255


def test_latent_mask_equals_a1111_on_a_blurred_mask():
    generator = torch.Generator().manual_seed(3)
    mask = torch.nn.functional.avg_pool2d(torch.rand(2, 1, 77, 93, generator=generator), 9, 1, 4)[:, 0]
    ours = latent_mask(mask, 10, 12)
    levels = (mask * 255).round().byte().numpy()
    for i in range(2):
        np.testing.assert_array_equal(ours[i].numpy(), _a1111_latent_mask(levels[i], 10, 12))


def test_faint_tails_below_half_a_level_vanish():
    mask = torch.zeros(1, 64, 64)
    mask[:, 16:48, 16:48] = 1
    mask[:, :8] = 1.5e-3  # rounds to level 0 in 8 bits
    out = latent_mask(mask, 8, 8)
    assert out[0, 0].eq(0).all()
    assert out[0, 3:5, 3:5].eq(1).all()


def test_latent_mask_clamps_overshoot_and_takes_bool():
    mask = torch.zeros(1, 16, 16)
    mask[:, 4:12, 4:12] = 1.04
    mask[:, 0, 0] = -0.03
    expected = latent_mask(mask.clamp(0, 1), 2, 2)
    torch.testing.assert_close(latent_mask(mask, 2, 2), expected, rtol=0, atol=0)
    torch.testing.assert_close(latent_mask(mask > 0.5, 2, 2), expected, rtol=0, atol=0)


@pytest.mark.parametrize("bad", [torch.zeros(16, 16), torch.zeros(1, 0, 16), torch.zeros(1, 1, 16, 16)])
def test_latent_mask_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="mask"):
        latent_mask(bad, 2, 2)


def test_conditioning_mask_is_the_unrounded_8bit_mask_sampled_nearest():
    mask = torch.linspace(0, 1, 64).expand(1, 16, 64).clone()
    out = conditioning_mask(mask, 2, 8)
    assert out.shape == (1, 1, 2, 8)
    levels = (mask * 255).round() / 255
    torch.testing.assert_close(out[0, 0], levels[0, ::8, ::8], rtol=0, atol=0)
    assert ((out > 0) & (out < 1)).any()  # soft values reach the model


def test_soft_masked_pixels_follow_a1111():
    generator = torch.Generator().manual_seed(1)
    pixels = torch.rand(1, 8, 8, 3, generator=generator)
    mask = torch.rand(1, 8, 8, generator=generator)
    levels = (mask * 255).round() / 255
    source = pixels * 2 - 1  # A1111's pixel range
    for strength in (1.0, 0.4, 0.0):
        expected = (torch.lerp(source, source * (1 - levels[..., None]), strength) + 1) / 2
        torch.testing.assert_close(soft_masked_pixels(pixels, mask, strength), expected)


def test_soft_masked_pixels_with_a_hard_mask_is_comfyuis_picture():
    pixels = torch.rand(1, 8, 8, 3)
    mask = (torch.rand(1, 8, 8) > 0.5).float()
    comfy = (pixels - 0.5) * (1 - mask.round())[..., None] + 0.5
    torch.testing.assert_close(soft_masked_pixels(pixels, mask, 1.0), comfy)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_masks_keep_their_dtype(dtype):
    mask = torch.rand(2, 16, 16, generator=torch.Generator().manual_seed(4))
    for function in (latent_mask, conditioning_mask):
        out, reference = function(mask.to(dtype), 4, 4), function(mask.to(dtype).float(), 4, 4)
        assert out.dtype == dtype  # the same 8-bit levels, divided by 255 in the mask's type
        assert torch.equal((out.double() * 255).round(), (reference.double() * 255).round())
        torch.testing.assert_close(out, (reference.double() * 255).round().to(dtype) / 255, rtol=0, atol=0)


@pytest.mark.parametrize(
    "mask, height, width, error, message",
    [
        (torch.zeros(1, 8, 8), 0, 2, ValueError, "height must be at least 1"),
        (torch.zeros(1, 8, 8), 2, -1, ValueError, "width must be at least 1"),
        (torch.zeros(1, 8, 8), 2.5, 2, TypeError, "height must be a whole number"),
        (torch.zeros(1, 8, 8), 2, None, TypeError, "width must be a whole number"),
        (torch.zeros(0, 8, 8), 2, 2, ValueError, "mask must not be empty"),
        (torch.full((1, 8, 8), math.nan), 2, 2, ValueError, "mask holds NaN"),
        (torch.zeros(1, 8, 8, dtype=torch.uint8), 2, 2, TypeError, "mask must be a float or bool tensor"),
    ],
)
def test_bad_masks_and_sizes_name_the_input(mask, height, width, error, message):
    for function in (latent_mask, conditioning_mask):
        with pytest.raises(error, match=message):
            function(mask, height, width)


def test_mask_to_8bit_names_bad_masks():
    assert mask_to_8bit(torch.tensor([[-0.04, 1.05, 0.5]])).tolist() == [[0, 255, 128]]
    with pytest.raises(ValueError, match="mask holds NaN"):
        mask_to_8bit(torch.tensor([[math.nan]]))
    with pytest.raises(ValueError, match="mask must not be empty"):
        mask_to_8bit(torch.zeros(0, 4))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_soft_masked_pixels_compute_in_float32(dtype):
    generator = torch.Generator().manual_seed(5)
    pixels, mask = torch.rand(1, 6, 6, 3, generator=generator).to(dtype), torch.rand(1, 6, 6, generator=generator)
    out = soft_masked_pixels(pixels, mask, 0.7)
    assert out.dtype == dtype
    torch.testing.assert_close(out, soft_masked_pixels(pixels.float(), mask, 0.7).to(dtype), rtol=0, atol=0)


@pytest.mark.parametrize(
    "pixels, mask, strength, message",
    [
        (torch.full((1, 2, 2, 3), math.nan), torch.zeros(1, 2, 2), 1.0, "pixels holds NaN"),
        (torch.zeros(1, 2, 2, 0), torch.zeros(1, 2, 2), 1.0, "pixels must not be empty"),
        (torch.zeros(1, 2, 2, 3), torch.full((1, 2, 2), math.inf), 1.0, "mask holds NaN or infinite"),
        (torch.zeros(1, 2, 2, 3), torch.zeros(1, 2, 2), math.nan, "strength must be finite"),
        (torch.zeros(1, 2, 2, 3, dtype=torch.uint8), torch.zeros(1, 2, 2), 1.0, "pixels must be a float tensor"),
    ],
)
def test_soft_masked_pixels_names_bad_inputs(pixels, mask, strength, message):
    with pytest.raises((ValueError, TypeError), match=message):
        soft_masked_pixels(pixels, mask, strength)
