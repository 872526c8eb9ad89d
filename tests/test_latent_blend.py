"""Invariants of the per-step blend and the sigma-scheduled mask."""

import pytest
import torch

import core
from core.latent_blend import MAGNITUDE_EPSILON


def _latents(shape, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(shape, generator=generator).to(dtype)
    b = torch.randn(shape, generator=generator).to(dtype)
    return a, b


def _epsilon_scaled(x):
    length = torch.linalg.vector_norm(x.double(), dim=1, keepdim=True)
    return (x.double() * length / (length + MAGNITUDE_EPSILON)).to(x.dtype)


@pytest.mark.parametrize("shape", [(2, 4, 5, 6), (1, 16, 3, 3), (1, 128, 2, 2), (2, 4, 3, 4, 5)])
@pytest.mark.parametrize("detail", [1.0, 4.0, 32.0])
def test_ends_of_the_blend(shape, detail):
    a, b = _latents(shape)
    ones = torch.ones(shape[0], 1, *shape[2:])
    torch.testing.assert_close(core.latent_blend(a, b, ones * 0, detail), _epsilon_scaled(a), rtol=1e-6, atol=0)
    torch.testing.assert_close(core.latent_blend(a, b, ones, detail), _epsilon_scaled(b), rtol=1e-6, atol=0)


def test_t_per_channel_equals_t_broadcast():
    a, b = _latents((2, 4, 5, 6), seed=1)
    t = torch.rand(2, 1, 5, 6, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(core.latent_blend(a, b, t.expand(-1, 4, -1, -1), 4.0), core.latent_blend(a, b, t, 4.0))


def test_detail_one_gives_lengths_between_the_two():
    a, b = _latents((2, 4, 8, 8), seed=2)
    t = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    blended_length = torch.linalg.vector_norm(core.latent_blend(a, b, t, 1.0), dim=1, keepdim=True)
    a_length = torch.linalg.vector_norm(a, dim=1, keepdim=True)
    b_length = torch.linalg.vector_norm(b, dim=1, keepdim=True)
    expected = (1 - t) * a_length + t * b_length  # p = 1: lengths interpolate linearly
    torch.testing.assert_close(blended_length, expected, rtol=1e-4, atol=1e-5)
    assert (blended_length <= torch.maximum(a_length, b_length) + 1e-5).all()
    assert (blended_length >= torch.minimum(a_length, b_length) - 1e-5).all()


def test_higher_detail_keeps_more_contrast():
    a, b = _latents((1, 4, 8, 8), seed=3)
    t = torch.full((1, 1, 8, 8), 0.5)
    lengths = [torch.linalg.vector_norm(core.latent_blend(a, b, t, p), dim=1) for p in (1.0, 4.0, 32.0)]
    assert (lengths[0] <= lengths[1] + 1e-6).all() and (lengths[1] <= lengths[2] + 1e-6).all()
    linear = torch.linalg.vector_norm(torch.lerp(a, b, t), dim=1)
    assert (lengths[0] >= linear - 1e-5).all()


def test_direction_is_the_linear_blend():
    a, b = _latents((1, 4, 6, 6), seed=4)
    t = torch.rand(1, 1, 6, 6, generator=torch.Generator().manual_seed(4))
    blended, linear = core.latent_blend(a, b, t, 8.0), torch.lerp(a, b, t)
    cosine = torch.nn.functional.cosine_similarity(blended, linear, dim=1)
    torch.testing.assert_close(cosine, torch.ones_like(cosine))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_is_finite_and_keeps_dtype(dtype):
    a, b = _latents((2, 4, 8, 8), seed=5, dtype=dtype)
    t = torch.rand(2, 1, 8, 8).to(dtype)
    out = core.latent_blend(a, b, t, 32.0)
    assert out.dtype == dtype and torch.isfinite(out).all()
    reference = core.latent_blend(a.float(), b.float(), t.float(), 32.0)
    torch.testing.assert_close(out.float(), reference, rtol=2e-2, atol=2e-2)
    nmask = core.modified_nmask(t, 14.6, 1.0, 0.5)
    assert nmask.dtype == dtype and torch.isfinite(nmask).all()


def test_zero_vectors_stay_zero():
    zeros = torch.zeros(1, 4, 3, 3)
    out = core.latent_blend(zeros, zeros, torch.full((1, 1, 3, 3), 0.5), 4.0)
    assert torch.equal(out, zeros)


def test_inputs_are_not_modified():
    a, b = _latents((2, 4, 5, 5), seed=6)
    t = torch.rand(2, 4, 5, 5)
    copies = [x.clone() for x in (a, b, t)]
    core.latent_blend(a, b, t, 4.0)
    core.modified_nmask(t, torch.tensor([3.0, 1.0]), 1.0, 0.5)
    for x, copy in zip((a, b, t), copies, strict=True):
        assert torch.equal(x, copy)


@pytest.mark.parametrize(
    "a_shape, b_shape, t_shape, message",
    [
        ((4, 5, 5), (4, 5, 5), (1, 5, 5), "'a' must be"),
        ((1, 4, 5, 5), (1, 4, 5, 6), (1, 1, 5, 5), "'b' must have the shape"),
        ((1, 4, 5, 5), (1, 4, 5, 5), (1, 2, 5, 5), "'t' must be"),
        ((2, 4, 5, 5), (2, 4, 5, 5), (3, 1, 5, 5), "'t' must be"),
        ((1, 4, 5, 5), (1, 4, 5, 5), (1, 1, 4, 4), "'t' must be"),
    ],
)
def test_bad_shapes_raise(a_shape, b_shape, t_shape, message):
    with pytest.raises(ValueError, match=message):
        core.latent_blend(torch.zeros(a_shape), torch.zeros(b_shape), torch.zeros(t_shape), 4.0)


@pytest.mark.parametrize("detail", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_detail_raises(detail):
    with pytest.raises(ValueError, match="detail_preservation"):
        core.latent_blend(torch.zeros(1, 4, 2, 2), torch.zeros(1, 4, 2, 2), torch.zeros(1, 1, 2, 2), detail)


def test_modified_nmask_per_sample_sigma():
    nmask = torch.rand(2, 4, 3, 3)
    sigmas = torch.tensor([14.6, 0.5])
    out = core.modified_nmask(nmask, sigmas, 1.0, 0.5)
    for i, sigma in enumerate(sigmas.tolist()):
        torch.testing.assert_close(out[i], core.modified_nmask(nmask[i:i + 1], sigma, 1.0, 0.5)[0])


def test_modified_nmask_schedule():
    nmask = torch.tensor([[[[0.0, 0.5, 1.0]]]])
    # Higher noise, higher exponent: more of the original is kept (smaller weight for the denoised).
    high, low = core.modified_nmask(nmask, 14.6, 1.0, 0.5), core.modified_nmask(nmask, 0.03, 1.0, 0.5)
    assert high[0, 0, 0, 1] < low[0, 0, 0, 1]
    assert high[0, 0, 0, 0] == 0 and high[0, 0, 0, 2] == 1
    assert torch.equal(core.modified_nmask(nmask, 0.0, 1.0, 0.5), torch.ones_like(nmask))  # 0 ** 0 == 1


def test_modified_nmask_rejects_wrong_sigma_count():
    with pytest.raises(ValueError, match="one value per sample"):
        core.modified_nmask(torch.rand(2, 4, 3, 3), torch.tensor([1.0, 2.0, 3.0]), 1.0, 0.5)


def test_blend_denoised_is_the_scheduled_latent_blend():
    a, b = _latents((2, 4, 5, 5), seed=7)
    nmask = torch.rand(2, 1, 5, 5, generator=torch.Generator().manual_seed(7))
    settings = core.SoftInpaintSettings(schedule_bias=2.0, preservation_strength=1.5, transition_contrast_boost=8.0)
    expected = core.latent_blend(a, b, core.modified_nmask(nmask, 3.0, 2.0, 1.5), 8.0)
    torch.testing.assert_close(core.blend_denoised(a, b, nmask, 3.0, settings), expected, rtol=0, atol=0)


def test_flow_sigma_to_sd_noise_level():
    sigma = torch.tensor([0.0, 0.5, 0.9, 1.0])
    sd = core.flow_to_sd_sigma(sigma)
    torch.testing.assert_close(sd[:3], torch.tensor([0.0, 1.0, 9.0]))
    assert sd[3] == 1e6  # pure noise: capped, finite
    # An SD sigma of 14.6 (SD1.5's start) is a flow sigma of 14.6/15.6.
    torch.testing.assert_close(core.flow_to_sd_sigma(torch.tensor(14.6 / 15.6)), torch.tensor(14.6))


def test_video_latents_blend_frame_by_frame():
    a, b = _latents((2, 16, 3, 4, 5), seed=8)
    t = torch.rand(2, 1, 3, 4, 5, generator=torch.Generator().manual_seed(8))
    video = core.latent_blend(a, b, core.modified_nmask(t, 2.0, 1.0, 0.5), 4.0)
    for frame in range(3):
        single = core.latent_blend(a[:, :, frame], b[:, :, frame], core.modified_nmask(t[:, :, frame], 2.0, 1.0, 0.5),
                                   4.0)
        torch.testing.assert_close(video[:, :, frame], single, rtol=0, atol=0)
