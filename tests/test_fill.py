"""A1111's masked-content fills."""

import pytest
import torch

from core.fill import fill_masked_latent, fill_masked_pixels


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
    with pytest.raises(ValueError, match="latent_mask"):
        fill_masked_latent(latent, torch.ones(1, 4, 6, 6))
