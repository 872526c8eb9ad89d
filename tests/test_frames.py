"""core.frames: which pixel frames each latent frame of a causal video VAE stands for."""

import pytest
import torch

from core.frames import frames_as_channels, frames_per_latent_frame, latent_frame_index, temporal_ratio


@pytest.mark.parametrize("pixel_frames, latent_frames, known, expected", [
    (81, 21, None, 4),  # Wan: 1 + 4 * 20
    (80, 20, None, 4),  # 3 frames beyond 1 + 4 * 19 are dropped by the encoder
    (9, 3, None, 4),  # exact 1 + ratio * (T - 1) wins over the smallest fit (3)
    (97, 13, None, 8),  # LTXV
    (21, 21, None, 1),
    (1, 1, 4, 1),
    (3, 1, None, 3),
    (84, 21, 4, 4),
    (85, 22, 4, 4),
])
def test_temporal_ratio(pixel_frames, latent_frames, known, expected):
    assert temporal_ratio(pixel_frames, latent_frames, known) == expected


@pytest.mark.parametrize("pixel_frames, latent_frames, known", [(2, 3, None), (4, 3, None), (85, 21, 4), (80, 21, 4)])
def test_counts_that_fit_no_ratio_are_refused(pixel_frames, latent_frames, known):
    with pytest.raises(ValueError, match=f"{pixel_frames} frames do not make {latent_frames} latent frames"):
        temporal_ratio(pixel_frames, latent_frames, known)


@pytest.mark.parametrize("args", [(0, 3), (3, 0), (3.0, 1), (True, 1), (9, 3, 0), (9, 3, 2.5)])
def test_bad_counts_are_refused(args):
    with pytest.raises(ValueError, match="frames|temporal compression"):
        temporal_ratio(*args)


def test_latent_frame_index_puts_the_first_frame_alone():
    assert latent_frame_index(10, 4).tolist() == [0, 1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert latent_frame_index(3, 1).tolist() == [0, 1, 2]


def test_each_latent_frame_takes_the_union_of_its_pixel_frames():
    masks = torch.zeros(10, 2, 3)
    masks[2, 0, 0] = 1  # latent frame 1
    masks[7, 1, 2] = 0.5  # latent frame 2
    masks[9] = 1  # the 10th frame is dropped by the encoder (1 + 4 * 2 = 9 frames make 3 latent frames)
    before = masks.clone()
    out = frames_per_latent_frame(masks, 3)
    expected = torch.zeros(3, 2, 3)
    expected[1, 0, 0], expected[2, 1, 2] = 1, 0.5
    assert torch.equal(out, expected) and torch.equal(masks, before)


def test_one_frame_or_one_per_latent_frame_are_taken_as_they_are():
    one = torch.rand(1, 4, 4)
    assert torch.equal(frames_per_latent_frame(one, 5), one.expand(5, -1, -1))
    per_latent = torch.rand(5, 4, 4)
    assert torch.equal(frames_per_latent_frame(per_latent, 5, 4), per_latent)
    assert frames_per_latent_frame(torch.ones(9, 4, 4, dtype=torch.bool), 3).dtype == torch.bool


def test_bad_masks_are_refused():
    with pytest.raises(ValueError, match=r"masks must be \[F,H,W\]"):
        frames_per_latent_frame(torch.zeros(2, 3), 1)
    with pytest.raises(ValueError, match="5 frames do not make 3 latent frames at the temporal compression 4"):
        frames_per_latent_frame(torch.zeros(5, 2, 2), 3, 4)


def test_frames_as_channels_lays_each_latent_frames_frames_out_as_its_channels():
    masks = torch.arange(9.0)[:, None, None].expand(9, 2, 3)  # frame i is all i
    channels = frames_as_channels(masks, 4)
    assert channels.shape == (4, 3, 2, 3)
    assert channels[:, :, 0, 0].tolist() == [[0, 1, 5], [0, 2, 6], [0, 3, 7], [0, 4, 8]]


def test_frames_as_channels_of_one_frame_fills_the_first_latent_frame():
    assert torch.equal(frames_as_channels(torch.full((1, 2, 2), 0.3), 4), torch.full((4, 1, 2, 2), 0.3))


@pytest.mark.parametrize("frames, ratio, message", [
    (8, 4, "8 frames are not 1 \\+ 4 \\* \\(latent frames - 1\\)"),
    (5, 0, "the temporal compression must be a positive int, got 0"),
])
def test_frames_as_channels_refuses_frames_that_do_not_fit(frames, ratio, message):
    with pytest.raises(ValueError, match=message):
        frames_as_channels(torch.zeros(frames, 2, 2), ratio)
