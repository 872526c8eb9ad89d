"""core.masks: from the painted pixel mask to the masks a sampler run blends by, for pictures and videos."""

import pytest
import torch

from core import eight_bit_levels, mask_at_size, mask_batch, masks_for_latent
from core.latent_mask import conditioning_mask, latent_mask


def _soft_mask(batch, height, width, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, height, width, generator=generator)


@pytest.mark.parametrize("shape, expected", [
    ((6, 5), (1, 6, 5)),
    ((2, 6, 5), (2, 6, 5)),
    ((2, 1, 6, 5), (2, 6, 5)),  # Set Latent Noise Mask's layout
    ((1, 1, 3, 6, 5), (3, 6, 5)),  # a video noise mask left by the soft sampler
])
def test_every_comfyui_mask_layout_becomes_a_batch_of_masks(shape, expected):
    mask = torch.rand(shape)
    out = mask_batch(mask)
    assert out.shape == expected and torch.equal(out.flatten(), mask.flatten())


def test_mask_batch_clamps_overshoot_and_takes_bool():
    assert torch.equal(mask_batch(torch.tensor([[-0.04, 0.5, 1.06]])), torch.tensor([[[0.0, 0.5, 1.0]]]))
    out = mask_batch(torch.tensor([[True, False]]))
    assert out.dtype == torch.float32 and out.tolist() == [[[1.0, 0.0]]]
    assert mask_batch(torch.rand(2, 3, dtype=torch.float64)).dtype == torch.float32


@pytest.mark.parametrize("mask, batch, message", [
    (torch.zeros(3, 4, 4), 2, "mask has a batch of 3 but the latent has 2"),
    (torch.zeros(2, 2, 4, 4), None, r"must be \[H,W\], \[B,H,W\] or \[B,1,H,W\]"),
    (torch.zeros(4), None, r"must be \[H,W\]"),
    (torch.full((1, 4, 4), float("nan")), None, "NaN"),
    (torch.zeros(1, 0, 4), None, "empty"),
])
def test_bad_masks_are_clear_errors(mask, batch, message):
    with pytest.raises(ValueError, match=message):
        mask_batch(mask, batch=batch)


def test_picture_masks_are_a1111s_per_sample():
    mask = _soft_mask(2, 64, 48)
    masks = masks_for_latent(mask, (2, 4, 8, 6))
    assert masks.blend.shape == masks.model.shape == (2, 1, 8, 6)
    assert torch.equal(masks.blend[:, 0], latent_mask(mask, 8, 6))
    assert torch.equal(masks.model, conditioning_mask(mask, 8, 6))
    assert not torch.equal(masks.blend[0], masks.blend[1])


def test_one_mask_serves_every_sample():
    mask = _soft_mask(1, 64, 64)
    masks = masks_for_latent(mask[0], (3, 4, 8, 8))
    assert masks.blend.shape == (3, 1, 8, 8)
    assert all(torch.equal(masks.blend[i, 0], latent_mask(mask, 8, 8)[0]) for i in range(3))


def test_a_picture_of_odd_size_takes_the_centre_the_encoder_kept():
    # 70 x 67 pixels encode to 8 x 8 latents of the centred 64 x 64 (rows 3-66, columns 1-64).
    mask = _soft_mask(1, 70, 67)
    masks = masks_for_latent(mask, (1, 4, 8, 8))
    assert torch.equal(masks.blend[:, 0], latent_mask(mask[:, 3:67, 1:65], 8, 8))
    assert not torch.equal(masks.blend[:, 0], latent_mask(mask[:, :64, :64], 8, 8))


def test_a_mask_of_another_size_is_resized_whole():
    mask = _soft_mask(1, 100, 30)
    assert torch.equal(masks_for_latent(mask, (1, 4, 8, 8)).blend[:, 0], latent_mask(mask, 8, 8))


def test_video_pixel_frames_map_to_the_latent_frames_they_are_encoded_into():
    # 9 frames at a temporal compression of 4: latent frame 0 is frame 0, 1 is frames 1-4, 2 is frames 5-8;
    # a latent frame takes the union of its frames' masks.
    frames = torch.zeros(9, 32, 32)
    frames[0, :8] = 1
    frames[3, 8:16] = 0.5
    frames[6, 16:24] = 0.75
    masks = masks_for_latent(frames, (2, 16, 3, 4, 4), temporal_ratio=4)
    union = torch.stack([frames[0], frames[1:5].amax(0), frames[5:9].amax(0)])
    assert masks.blend.shape == (2, 1, 3, 4, 4)
    assert torch.equal(masks.blend[0, 0], latent_mask(union, 4, 4))
    assert torch.equal(masks.blend[1], masks.blend[0])
    assert torch.equal(masks.model[0, 0], conditioning_mask(union, 4, 4)[:, 0])


def test_video_mask_of_one_frame_or_one_per_latent_frame():
    one = _soft_mask(1, 32, 32)
    assert torch.equal(masks_for_latent(one, (1, 16, 5, 4, 4)).blend[0, 0],
                       latent_mask(one, 4, 4).expand(5, -1, -1))
    per_latent = _soft_mask(5, 32, 32)
    assert torch.equal(masks_for_latent(per_latent, (1, 16, 5, 4, 4)).blend[0, 0], latent_mask(per_latent, 4, 4))


def test_video_frame_count_that_fits_no_latent_frames_is_a_clear_error():
    with pytest.raises(ValueError, match="mask: 7 frames do not make 3 latent frames.*one per latent frame"):
        masks_for_latent(torch.zeros(7, 8, 8), (1, 16, 3, 1, 1), temporal_ratio=4)


@pytest.mark.parametrize("shape", [(1, 4, 8), (1, 4, 0, 8), (2, 4, 1, 2, 2, 2), [1, 4, 8.0, 8]])
def test_a_latent_shape_that_is_no_latent_is_a_clear_error(shape):
    with pytest.raises(ValueError, match=r"the latent must be \[B,C,h,w\] or a video"):
        masks_for_latent(torch.zeros(8, 8), shape)


def test_eight_bit_levels_drop_tails_below_half_a_level():
    mask = torch.tensor([0.0, 0.001, 0.0019, 0.002, 0.5, 0.999, 1.0, 1.2])
    assert torch.equal(eight_bit_levels(mask) * 255, torch.tensor([0.0, 0, 0, 1, 128, 255, 255, 255]))


def test_mask_at_size_resizes_as_comfyui_does():
    mask = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]])
    out = mask_at_size(mask, 4, 4)
    # Bilinear with half-pixel centres: the corners keep their values, the inner pixels mix 3:1 and 1:3.
    assert torch.allclose(out[0, 0], torch.tensor([0.0, 0.25, 0.75, 1.0]))
    assert torch.allclose(out[0, 1], torch.tensor([0.25, 0.375, 0.625, 0.75]))
    assert torch.equal(mask_at_size(torch.ones(1, 3, 5), 7, 9), torch.ones(1, 7, 9))
    same = _soft_mask(2, 6, 5)
    assert torch.equal(mask_at_size(same, 6, 5), same)
