"""A1111's masked-content fills."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter, ImageOps

from core.fill import fill_masked_latent, fill_masked_pixels


def _a1111_fill(image: Image.Image, mask: Image.Image) -> Image.Image:
    """A1111's modules/masking.fill, written out."""
    image_mod = Image.new("RGBA", (image.width, image.height))
    image_masked = Image.new("RGBa", (image.width, image.height))
    image_masked.paste(image.convert("RGBA").convert("RGBa"), mask=ImageOps.invert(mask.convert("L")))
    image_masked = image_masked.convert("RGBa")
    for radius, repeats in [(256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1)]:
        blurred = image_masked.filter(ImageFilter.GaussianBlur(radius)).convert("RGBA")
        for _ in range(repeats):
            image_mod.alpha_composite(blurred)
    return image_mod.convert("RGB")


def _picture(seed=0, batch=2, size=(40, 48)):
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, *size, 3, generator=generator)
    mask = torch.zeros(batch, *size)
    mask[:, 10:30, 12:36] = 1.0
    mask[:, 8:10, 12:36] = 0.5
    return image, mask


def test_unmasked_pixels_are_untouched_and_the_hole_is_filled():
    image, mask = _picture()
    image[:, 10:30, 12:36] = torch.tensor([1.0, 0.0, 1.0])  # a magenta hole in a random picture
    filled = fill_masked_pixels(image, mask)
    keep = mask == 0
    assert torch.equal(filled[keep], image[keep])
    hole = filled[:, 15:25, 20:28]
    # Filled from the surroundings (mean grey ~0.5), nothing of the magenta left.
    assert (hole - 0.5).abs().max() < 0.2


def test_fill_is_a1111_fill_on_8bit_pictures():
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (2, 40, 50, 3), dtype=np.uint8)
    levels = np.zeros((2, 40, 50), np.uint8)
    levels[0, 10:30, 12:40] = 255
    levels[0, 8:10, 12:40] = 128
    levels[1, 25:38, 5:20] = rng.integers(0, 256, (13, 15))
    masks = torch.from_numpy(levels).float() / 255
    masks[0, 0, :10] = 0.4 / 255  # 0 in A1111's 8-bit mask: filled with the picture itself
    filled = fill_masked_pixels(torch.from_numpy(picture).float() / 255, masks)
    for i in range(2):
        expected = np.asarray(_a1111_fill(Image.fromarray(picture[i]), Image.fromarray(levels[i])))
        np.testing.assert_array_equal((filled[i] * 255).round().byte().numpy(), expected)


def test_uniform_surroundings_fill_with_their_colour():
    image = torch.full((1, 32, 32, 3), 0.25)
    image[:, 8:24, 8:24] = 1.0
    mask = torch.zeros(1, 32, 32)
    mask[:, 8:24, 8:24] = 1.0
    filled = fill_masked_pixels(image, mask)
    # Within a few 8-bit levels: the premultiplied 8-bit blur rounds where little alpha is left.
    torch.testing.assert_close(filled, torch.full_like(image, 0.25), rtol=0, atol=4 / 255)


def test_one_mask_for_a_batch_and_input_untouched():
    image, mask = _picture(seed=1)
    before = image.clone(), mask.clone()
    filled = fill_masked_pixels(image, mask[:1])
    assert filled.shape == image.shape and filled.dtype == image.dtype
    assert torch.equal(image, before[0]) and torch.equal(mask, before[1])


@pytest.mark.parametrize("image_shape, mask_shape", [((2, 8, 8, 4), (2, 8, 8)), ((2, 8, 8, 3), (2, 8, 9)),
                                                     ((2, 8, 8, 3), (3, 8, 8))])
def test_fill_rejects_bad_shapes(image_shape, mask_shape):
    with pytest.raises(ValueError, match="must be"):
        fill_masked_pixels(torch.zeros(image_shape), torch.zeros(mask_shape))


def test_latent_fills():
    latent = torch.randn(2, 4, 6, 6)
    noise = torch.randn(2, 4, 6, 6)
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., 2:4, 2:4] = 1.0
    mask[..., 0, 0] = 0.25
    nothing = fill_masked_latent(latent, mask)
    noised = fill_masked_latent(latent, mask, noise)
    outside = (mask == 0).expand_as(latent)
    assert torch.equal(nothing[outside], latent[outside]) and torch.equal(noised[outside], latent[outside])
    assert torch.equal(nothing[..., 2:4, 2:4], torch.zeros(2, 4, 2, 2))
    assert torch.equal(noised[..., 2:4, 2:4], noise[..., 2:4, 2:4])
    torch.testing.assert_close(noised[..., 0, 0], 0.75 * latent[..., 0, 0] + 0.25 * noise[..., 0, 0])
    video = fill_masked_latent(torch.randn(1, 16, 3, 4, 4), torch.ones(1, 1, 3, 4, 4))
    assert torch.equal(video, torch.zeros(1, 16, 3, 4, 4))


def test_latent_fill_takes_bool_and_clamps_masks():
    latent, noise = torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6)
    hard = torch.zeros(2, 1, 6, 6, dtype=torch.bool)
    hard[:, :, 1:5, 1:5] = True
    assert torch.equal(fill_masked_latent(latent, hard, noise), fill_masked_latent(latent, hard.float(), noise))
    overshoot = hard.float() * 1.05 - 0.02 * (~hard).float()
    assert torch.equal(fill_masked_latent(latent, overshoot, noise), fill_masked_latent(latent, hard.float(), noise))


def test_latent_fill_computes_float16_in_float32():
    generator = torch.Generator().manual_seed(0)
    latent = (torch.randn(1, 4, 8, 8, generator=generator) * 300).half()  # large but finite in float16
    noise = torch.randn(1, 4, 8, 8, generator=generator).half()
    mask = torch.rand(1, 1, 8, 8, generator=generator).half()
    before = latent.clone(), noise.clone(), mask.clone()
    out = fill_masked_latent(latent, mask, noise)
    assert out.dtype == torch.float16
    expected = latent.float() * (1 - mask.float()) + noise.float() * mask.float()
    assert torch.equal(out, expected.half())
    assert all(torch.equal(a, b) for a, b in zip((latent, noise, mask), before, strict=True))


@pytest.mark.parametrize("latent, mask, noise, error, match", [
    (torch.randn(2, 4, 6, 6), torch.ones(1, 4, 6, 6), None, ValueError, "latent_mask must be"),
    (torch.randn(2, 4, 6, 6), torch.ones(3, 1, 6, 6), None, ValueError, "latent_mask must be"),
    (torch.randn(2, 4, 6, 6), torch.ones(2, 1, 6, 7), None, ValueError, "latent_mask must be"),
    (torch.randn(2, 4, 6, 6), torch.ones(1, 6, 6), None, ValueError, "latent_mask must be"),
    (torch.randn(2, 4, 6, 6), torch.ones(1, 1, 6, 6), torch.randn(1, 4, 6, 6), ValueError, "noise"),
    (torch.randn(2, 4, 6, 6), torch.ones(1, 1, 6, 6).long(), None, TypeError, "latent_mask"),
    (torch.randn(2, 4, 6, 6), torch.full((1, 1, 6, 6), float("nan")), None, ValueError, "latent_mask"),
    (torch.randn(2, 4, 6, 6), torch.ones(1, 1, 6, 6, device="meta"), None, ValueError, "latent_mask is on meta"),
    (torch.randn(2, 4, 6, 6), torch.ones(1, 1, 6, 6), torch.randn(2, 4, 6, 6, device="meta"), ValueError,
     "noise is on meta"),
    (torch.zeros(2, 4, 6, 6, dtype=torch.long), torch.ones(1, 1, 6, 6), None, TypeError, "latent"),
    (torch.full((2, 4, 6, 6), float("nan")), torch.ones(1, 1, 6, 6), None, ValueError, "latent"),
    (torch.randn(2, 4, 6, 6), torch.ones(1, 1, 6, 6), torch.full((2, 4, 6, 6), float("-inf")), ValueError, "noise"),
    (torch.randn(2, 4, 6, 6), torch.full((1, 1, 6, 6), float("inf")), None, ValueError, "latent_mask"),
    (torch.randn(2, 4, 0, 6), torch.ones(1, 1, 0, 6), None, ValueError, "latent"),
    (torch.randn(0, 4, 6, 6), torch.ones(1, 1, 6, 6), None, ValueError, "latent"),
    (torch.randn(2, 4, 6, 6), [[1.0]], None, TypeError, "latent_mask"),
])
def test_latent_fill_rejects_bad_input_by_name(latent, mask, noise, error, match):
    with pytest.raises(error, match=match):
        fill_masked_latent(latent, mask, noise)


def test_latent_fill_returns_the_latents_dtype_whatever_the_masks():
    latent, noise = torch.randn(1, 4, 4, 4).half(), torch.randn(1, 4, 4, 4).double()
    mask = torch.rand(1, 1, 4, 4, dtype=torch.float64)
    assert fill_masked_latent(latent, mask, noise).dtype == torch.float16
    assert fill_masked_latent(latent, mask > 0.5).dtype == torch.float16


def test_fill_clamps_the_mask_first():
    image, mask = _picture(seed=2)
    mask[:, 0, :5] = 0.3
    overshooting = torch.where(mask == 0, -1e-6, mask * 1.05)
    filled = fill_masked_pixels(image, overshooting)
    assert torch.equal(filled, fill_masked_pixels(image, overshooting.clamp(0, 1)))
    keep = mask == 0  # -1e-6 counts as 0: those pixels come back untouched, not in 8 bits
    assert torch.equal(filled[keep], image[keep])


def test_fill_takes_bool_masks_and_keeps_the_dtype():
    image, mask = _picture(seed=3)
    hard = mask > 0.75
    filled = fill_masked_pixels(image.double(), hard)
    assert filled.dtype == torch.float64
    assert torch.equal(filled, fill_masked_pixels(image.double(), hard.float()))


@pytest.mark.parametrize("image, mask, match", [
    (torch.full((1, 8, 8, 3), float("nan")), torch.zeros(1, 8, 8), "image"),
    (torch.zeros(0, 8, 8, 3), torch.zeros(1, 8, 8), "image"),
    (torch.zeros(1, 8, 8, 3).to(torch.uint8), torch.zeros(1, 8, 8), "image"),
    (torch.zeros(1, 8, 8, 3), torch.full((1, 8, 8), float("inf")), "mask"),
    (torch.zeros(1, 8, 8, 3), [[0.0]], "mask"),
])
def test_fill_errors_name_their_input(image, mask, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fill_masked_pixels(image, mask)
