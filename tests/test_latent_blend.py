"""Invariants of the per-step blend and the sigma-scheduled mask."""

import math

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


@pytest.mark.parametrize("sigma", [14.6, 1.0, 0.03, torch.tensor([2.0, 0.5])])
def test_original_kept_is_where_the_step_gives_back_the_original(sigma):
    a, b = _latents((2, 4, 5, 6), seed=3)
    nmask = torch.rand(2, 1, 5, 6, generator=torch.Generator().manual_seed(3))
    nmask[:, :, :2] = 0
    nmask[:, :, 4:] = 1e-30  # not 0, though its power of it may underflow: the blend is then the original too
    settings = core.SoftInpaintSettings(preservation_strength=2.0)
    kept = core.original_kept(nmask, sigma, settings)
    gives_original = (core.blend_denoised(a, b, nmask, sigma, settings) == a).all(dim=1, keepdim=True)
    assert kept.dtype == torch.bool and kept.shape == nmask.shape
    assert torch.equal(kept, gives_original)
    assert kept[:, :, :2].all() and not kept[:, :, 2:4].any()


def test_nothing_is_kept_whole_at_sigma_0_or_without_preservation():
    nmask = torch.zeros(1, 1, 3, 3)
    assert not core.original_kept(nmask, 0.0, core.SoftInpaintSettings()).any()  # 0 ** 0 == 1, as in A1111
    assert not core.original_kept(nmask, 3.0, core.SoftInpaintSettings(preservation_strength=0.0)).any()


def test_original_kept_needs_settings():
    with pytest.raises(TypeError, match="original_kept: settings must be a SoftInpaintSettings"):
        core.original_kept(torch.zeros(1, 1, 2, 2), 1.0, {"preservation_strength": 0.5})


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


def _a1111_nmask(nmask, sigma, power, scale):
    """A1111's formula in float64, on the mask clamped to 0-1."""
    return nmask.double().clamp(0, 1) ** (sigma**power * scale)


def test_float16_zero_mask_with_a_tiny_exponent_stays_zero():
    zeros = torch.zeros(1, 1, 2, 2, dtype=torch.float16)
    # sigma**8 * 0.5 = 5e-25: 0 in float16 (and float32), which made 0 ** 0 = 1.
    out = core.modified_nmask(zeros, 1e-3, 8.0, 0.5)
    assert out.dtype == torch.float16 and torch.equal(out, zeros)
    half = torch.full((1, 1, 1, 1), 0.5, dtype=torch.float16)
    torch.testing.assert_close(core.modified_nmask(half, 1e-3, 8.0, 0.5).double(),
                               _a1111_nmask(half, 1e-3, 8.0, 0.5), rtol=1e-3, atol=0)


def test_float16_mask_with_an_exponent_beyond_float16():
    nmask = torch.tensor([[[[0.0, 0.999, 1.0]]]], dtype=torch.float16)
    out = core.modified_nmask(nmask, 14.6, 8.0, 8.0)  # exponent 1.6e10: once an overflow error
    torch.testing.assert_close(out.double(), _a1111_nmask(nmask, 14.6, 8.0, 8.0), rtol=0, atol=0)
    assert out.tolist() == [[[[0.0, 0.0, 1.0]]]]


@pytest.mark.parametrize("overshoot", [[-0.04, 1.05], [-1e-6, 1 + 1e-6]])
def test_mask_slightly_outside_0_1_is_clamped(overshoot):
    nmask = torch.tensor([[[[*overshoot, 0.5]]]])
    for sigma, power, scale in ((2.0, 1.0, 0.5), (0.0, 1.0, 0.5), (0.5, 0.7, 0.3)):
        out = core.modified_nmask(nmask, sigma, power, scale)
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out, _a1111_nmask(nmask, sigma, power, scale).float())
    a, b = _latents((1, 4, 1, 3), seed=9)
    torch.testing.assert_close(core.latent_blend(a, b, nmask, 4.0), core.latent_blend(a, b, nmask.clamp(0, 1), 4.0),
                               rtol=0, atol=0)


def test_zero_strength_preserves_nothing_even_at_huge_sigma():
    nmask = torch.tensor([[[[0.0, 0.3, 1.0]]]])
    # A1111: x ** (sigma**power * 0) = x ** 0 = 1, also where sigma**power overflows.
    assert torch.equal(core.modified_nmask(nmask, 1e300, 8.0, 0.0), torch.ones_like(nmask))
    assert torch.equal(core.modified_nmask(nmask, 1e300, 8.0, 0.5), torch.tensor([[[[0.0, 0.0, 1.0]]]]))


def test_bool_mask_gives_float32():
    nmask = torch.tensor([[[[False, True]]]])
    out = core.modified_nmask(nmask, 1.0, 1.0, 0.5)
    assert out.dtype == torch.float32 and out.tolist() == [[[[0.0, 1.0]]]]


def test_float16_opposite_vectors_blend_to_zero_not_nan():
    # The linear blend is 0, so the length ratio is |a| / 1e-5, beyond float16: it once overflowed to inf.
    a = torch.tensor([3.0, -2.0, 1.0, 0.5], dtype=torch.float16).reshape(1, 4, 1, 1)
    out = core.latent_blend(a, -a, torch.full((1, 1, 1, 1), 0.5, dtype=torch.float16), 4.0)
    assert out.dtype == torch.float16 and torch.equal(out, torch.zeros_like(a))


def test_large_lengths_with_p_32_do_not_overflow():
    direction = torch.tensor([0.6, 0.8, 0.0, 0.0]).reshape(1, 4, 1, 1)
    a, b = direction * 1e10, direction * 2e10  # |a|^32 = 1e320 overflows float64
    out = core.latent_blend(a, b, torch.full((1, 1, 1, 1), 0.5), 32.0)
    # A1111's formula, scaled by 1e10 to stay finite: ((1-t) 1^p + t 2^p)^(1/p).
    expected_length = 1e10 * (0.5 * 1.0**32 + 0.5 * 2.0**32) ** (1 / 32)
    expected = direction * expected_length * (1.5e10 / (1.5e10 + MAGNITUDE_EPSILON))
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=0)


def test_a_short_vector_with_full_weight_keeps_its_length():
    # t = 0 keeps a; at p = 32, (|a|/|b|)^32 = 1e-320 would underflow if the power mean were scaled by |b|.
    a = torch.tensor([1e-10, 0.0, 0.0, 0.0], dtype=torch.float64).reshape(1, 4, 1, 1)
    b = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=torch.float64).reshape(1, 4, 1, 1)
    out = core.latent_blend(a, b, torch.zeros(1, 1, 1, 1), 32.0)
    torch.testing.assert_close(out, _epsilon_scaled(a), rtol=1e-9, atol=0)


def test_blend_too_large_for_float16_raises():
    a = torch.full((1, 4, 1, 1), 6e4, dtype=torch.float16)
    b = a * torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float16).reshape(1, 4, 1, 1)
    # At p = 32 the blended length is ~|a| = 1.2e5 on two channels: 8.5e4 each, beyond float16.
    with pytest.raises(ValueError, match="'a' and 'b' overflows torch.float16"):
        core.latent_blend(a, b, torch.full((1, 1, 1, 1), 0.5), 32.0)


@pytest.mark.parametrize("bad", ["nan", "inf", "int"])
@pytest.mark.parametrize("which", ["a", "b", "t"])
def test_latent_blend_names_a_bad_input(which, bad):
    inputs = {"a": torch.zeros(1, 4, 2, 2), "b": torch.zeros(1, 4, 2, 2), "t": torch.zeros(1, 1, 2, 2)}
    x = inputs[which]
    inputs[which] = {"nan": x.fill_(math.nan), "inf": x.fill_(math.inf), "int": x.long()}[bad]
    error, message = (TypeError, "must be a float") if bad == "int" else (ValueError, "holds NaN or infinite")
    with pytest.raises(error, match=f"'{which}' {message}"):
        core.latent_blend(inputs["a"], inputs["b"], inputs["t"], 4.0)


def test_empty_latents_raise():
    with pytest.raises(ValueError, match="'a' must not be empty"):
        core.latent_blend(torch.zeros(1, 4, 0, 2), torch.zeros(1, 4, 0, 2), torch.zeros(1, 1, 0, 2), 4.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sigma": math.nan}, "sigma must be finite"),
        ({"sigma": -1.0}, "sigma must be >= 0"),
        ({"sigma": torch.tensor([])}, "sigma must be finite and >= 0"),
        ({"sigma": "1"}, "sigma must be a number"),
        ({"mask_blend_power": -1.0}, "mask_blend_power must be >= 0"),
        ({"mask_blend_scale": math.inf}, "mask_blend_scale must be finite"),
        ({"nmask": torch.zeros(0, 1, 2, 2)}, "nmask must not be empty"),
        ({"nmask": torch.full((1, 1, 2, 2), math.nan)}, "nmask holds NaN"),
        ({"nmask": torch.zeros(1, 1, 2, 2, dtype=torch.uint8)}, "nmask must be a float or bool tensor"),
    ],
)
def test_modified_nmask_names_a_bad_input(kwargs, message):
    args = {"nmask": torch.zeros(1, 1, 2, 2), "sigma": 1.0, "mask_blend_power": 1.0, "mask_blend_scale": 0.5}
    with pytest.raises((ValueError, TypeError), match=message):
        core.modified_nmask(**{**args, **kwargs})


def test_blend_denoised_names_its_own_inputs():
    settings = core.SoftInpaintSettings()
    zeros = torch.zeros(1, 4, 2, 2)
    with pytest.raises(ValueError, match="denoised holds NaN"):
        core.blend_denoised(zeros, torch.full_like(zeros, math.nan), torch.zeros(1, 1, 2, 2), 1.0, settings)
    with pytest.raises(ValueError, match="nmask must be"):
        core.blend_denoised(zeros, zeros, torch.zeros(1, 1, 3, 3), 1.0, settings)
    with pytest.raises(TypeError, match="settings must be a SoftInpaintSettings"):
        core.blend_denoised(zeros, zeros, torch.zeros(1, 1, 2, 2), 1.0, {"schedule_bias": 1.0})


def test_blend_denoised_one_mask_for_a_batch_with_a_sigma_per_sample():
    a, b = _latents((2, 4, 3, 3), seed=10)
    nmask = torch.rand(1, 1, 3, 3, generator=torch.Generator().manual_seed(10))
    settings = core.SoftInpaintSettings()
    out = core.blend_denoised(a, b, nmask, torch.tensor([14.6, 0.5]), settings)
    for i, sigma in enumerate((14.6, 0.5)):
        torch.testing.assert_close(out[i:i + 1], core.blend_denoised(a[i:i + 1], b[i:i + 1], nmask, sigma, settings))


def test_flow_sigma_keeps_dtype_and_stays_finite_in_float16():
    out = core.flow_to_sd_sigma(torch.tensor([0.0, 0.5, 1.0], dtype=torch.float16))
    assert out.dtype == torch.float16 and out.tolist() == [0.0, 1.0, torch.finfo(torch.float16).max]


def test_flow_sigma_a_rounding_step_above_1_is_pure_noise():
    above = torch.nextafter(torch.tensor([1.0]), torch.tensor([2.0]))
    assert core.flow_to_sd_sigma(above).tolist() == [1e6]


@pytest.mark.parametrize("sigma", [torch.tensor([1.001]), torch.tensor([-0.1]), torch.tensor([math.nan]),
                                   torch.tensor([]), torch.tensor([1])])
def test_flow_sigma_outside_0_1_raises(sigma):
    with pytest.raises((ValueError, TypeError), match="sigma"):
        core.flow_to_sd_sigma(sigma)


def test_blend_denoised_keeps_either_latent_exactly_where_the_weight_is_0_or_1():
    a, b = _latents((2, 4, 6, 6), seed=5)
    nmask = torch.rand(2, 1, 6, 6, generator=torch.Generator().manual_seed(5))
    nmask[:, :, :2] = 0
    nmask[:, :, 4:] = 1
    out = core.blend_denoised(a, b, nmask, 1.5, core.SoftInpaintSettings())
    assert torch.equal(out[:, :, :2], a[:, :, :2]) and torch.equal(out[:, :, 4:], b[:, :, 4:])
    # In between it is A1111's blend, epsilon included.
    weight = core.modified_nmask(nmask, 1.5, 1.0, 0.5)
    torch.testing.assert_close(out[:, :, 2:4], core.latent_blend(a, b, weight, 4.0)[:, :, 2:4], rtol=0, atol=0)
