"""Which latents are batches of pictures, and the frame axis a video latent format gives a picture latent."""

import pytest
import torch

from core.picture_batch import in_format_layout, is_picture_batch


@pytest.mark.parametrize("shape, count, pictures", [
    ((2, 4, 8, 8), 1, True),
    ((2, 4, 8, 8), 2, True),
    ((2, 16, 1, 8, 8), 2, True),  # Qwen-Image's batch of two pictures, one latent frame each
    ((2, 16, 1, 8, 8), 1, True),
    ((1, 16, 1, 8, 8), 1, True),
    ((1, 16, 1, 8, 8), 3, False),  # three frames of one video, folded into its first latent frame
    ((2, 16, 1, 8, 8), 3, False),
    ((1, 16, 3, 8, 8), 1, False),  # a video: masks are frames
    ((2, 16, 3, 8, 8), 2, False),
])
def test_a_latent_is_pictures_when_one_latent_frame_meets_one_mask_or_one_per_sample(shape, count, pictures):
    assert is_picture_batch(shape, count) is pictures


@pytest.mark.parametrize("shape, count, message", [
    ((2, 4, 8), 1, r"the latent must be \[B,C,h,w\] or \[B,C,T,h,w\], got shape \(2, 4, 8\)"),
    ((1, 16, 1, 8, 8), 0, "count must be a positive int, got 0"),
    ((1, 16, 1, 8, 8), True, "count must be a positive int, got True"),
])
def test_bad_shapes_and_counts_are_clear_errors(shape, count, message):
    with pytest.raises(ValueError, match=message):
        is_picture_batch(shape, count)


def test_a_video_latent_format_gives_a_picture_latent_its_frame_axis():
    latent = torch.randn(2, 16, 8, 8)
    sampled = in_format_layout(latent, 3)
    assert sampled.shape == (2, 16, 1, 8, 8) and sampled.data_ptr() == latent.data_ptr()
    assert in_format_layout(latent, 2) is latent
    video = torch.randn(1, 16, 3, 8, 8)
    assert in_format_layout(video, 3) is video
