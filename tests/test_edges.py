"""The edges an independent fuzz run found (issue 17), each giving the right finite result or an error that
names the input and what it must be. tests/test_fuzz_core.py draws these and many more."""

import math

import pytest
import torch

import core
from core.histogram_filter import MAX_KERNEL_RADIUS
from core.tensor_checks import MAX_SIZE


def test_a_sigma_whose_square_is_0_blurs_nothing():
    assert core.blur_kernel(1e-200).tolist() == [1.0]
    mask = torch.rand(2, 5, 7, generator=torch.Generator().manual_seed(0))
    assert torch.equal(core.blur_mask(mask, 1e-200, 1e-320), mask)
    assert torch.equal(core.prepare_mask(torch.ones(1, 4, 4), 1e-200, 1e-200), torch.ones(1, 4, 4))


def test_gaussian_kernel_at_extreme_stddevs():
    centre_only, _ = core.gaussian_kernel(1e-200, 2)
    assert centre_only.sum() == 1 and centre_only[2, 2] == 1
    flat, _ = core.gaussian_kernel(1e9, 1)  # the limit 1 - d^2 / (radius + 1)^2
    torch.testing.assert_close(flat, torch.tensor([[0.5, 0.75, 0.5], [0.75, 1.0, 0.75], [0.5, 0.75, 0.5]],
                                                  dtype=torch.float64))


def test_stitch_keeps_float64_beyond_float32s_range():
    originals = torch.full((1, 8, 8, 3), 1e300, dtype=torch.float64)
    out = core.stitch(originals, torch.rand(1, 4, 4, 3, dtype=torch.float64), [(2, 2, 6, 6)],
                      crop_masks=torch.full((1, 4, 4), 0.5, dtype=torch.float64))
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
    torch.testing.assert_close(out[0, 3, 3], torch.full((3,), 0.5e300, dtype=torch.float64), rtol=1e-6, atol=0)


@pytest.mark.parametrize("p", [1e-12, 1e-15, 1e-30, 1e-300])
def test_a_tiny_detail_preservation_gives_the_geometric_mean_of_the_lengths(p):
    generator = torch.Generator().manual_seed(1)
    a, b = (torch.randn(1, 4, 3, 3, dtype=torch.float64, generator=generator) for _ in range(2))
    t = torch.full((1, 1, 3, 3), 0.3, dtype=torch.float64)
    out = core.latent_blend(a, b, t, p)
    linear = torch.lerp(a, b, t)
    geometric = a.norm(dim=1, keepdim=True) ** 0.7 * b.norm(dim=1, keepdim=True) ** 0.3
    expected = linear * geometric / (linear.norm(dim=1, keepdim=True) + 1e-5)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=0)


def test_the_filter_takes_any_layout():
    image = torch.rand(2, 9, 7, generator=torch.Generator().manual_seed(2))
    kernel, centre = core.gaussian_kernel(1.5, 2)
    expected = core.weighted_histogram_filter(image.transpose(1, 2).contiguous(), kernel, centre, 0.25, 0.75)
    assert torch.equal(core.weighted_histogram_filter(image.transpose(1, 2), kernel, centre, 0.25, 0.75), expected)


ZEROS = torch.zeros(2, 4, 3, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: core.weighted_histogram_filter(torch.rand(4, 4), torch.ones(3, 3), 1, percentile_min=None),
     TypeError, "percentile_min must be a number"),
    (lambda: core.weighted_histogram_filter(torch.rand(4, 4), torch.ones(3, 3), "c"), TypeError, "kernel_center"),
    (lambda: core.gaussian_kernel(1e-3, MAX_KERNEL_RADIUS + 1), ValueError, "max_radius must be in"),
    (lambda: core.SoftInpaintSettings(difference_threshold=10**400), ValueError, "difference_threshold must be in"),
    (lambda: core.SoftInpaintSettings.from_a1111("a string"), TypeError, "values must be a dict"),
    (lambda: core.SoftInpaintSettings.from_a1111(None), TypeError, "values must be a dict"),
    (lambda: core.adaptive_latent_mask(torch.rand(2, 3, 3), ZEROS, ZEROS, None), TypeError,
     "settings must be a SoftInpaintSettings"),
    (lambda: core.blend_denoised(ZEROS, ZEROS, torch.rand(3, 1, 3, 3), torch.tensor([1.0, 2.0]),
                                 core.SoftInpaintSettings()), ValueError, "nmask must be"),
    (lambda: core.blend_denoised(ZEROS[0], ZEROS[0], torch.rand(1, 3, 3), 1.0, core.SoftInpaintSettings()),
     ValueError, "original must be"),
    (lambda: core.composite(torch.rand(4, 4, 3), torch.rand(1, 4, 4, 3), torch.rand(1, 4, 4)), ValueError,
     r"original must be \[B,H,W,C\]"),
    (lambda: core.composite(torch.rand(1, 4, 4, 3), torch.rand(1, 1, 4, 4, 3), torch.rand(1, 4, 4)), ValueError,
     r"inpainted must be \[B,H,W,C\]"),
])
def test_refusals_name_the_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("size", [MAX_SIZE + 1, 2**31, 10**400])
@pytest.mark.parametrize("call", [
    lambda size: core.pixel_composite_mask(torch.rand(1, 2, 2), size, 2),
    lambda size: core.conditioning_mask(torch.rand(1, 2, 2), 2, size),
    lambda size: core.latent_mask(torch.rand(1, 2, 2), size, 2),
    lambda size: core.crop(torch.rand(1, 4, 4, 3), torch.rand(1, 4, 4), [(0, 0, 4, 4)], size, 2),
    lambda size: core.uncrop(torch.rand(1, 4, 4, 3), [(0, 0, 4, 4)], 4, size),
    lambda size: core.crop_boxes(torch.rand(1, 4, 4), size, 8, 8),
])
def test_sizes_past_the_bound_are_refused_by_name(call, size):
    with pytest.raises(ValueError, match=rf"(height|width|padding) must be at most MAX_SIZE = {MAX_SIZE}"):
        call(size)


def test_a_threshold_that_is_0_in_float32_is_not_nan():
    original = torch.zeros(1, 4, 3, 3)
    processed = original.clone()
    processed[0, :, 1, 1] = 1.0
    settings = core.SoftInpaintSettings(difference_threshold=1e-300)
    assert torch.equal(core.adaptive_latent_mask(torch.rand(1, 3, 3), original, processed, settings),
                       torch.ones(1, 3, 3))


def test_an_exponent_that_underflows_still_keeps_the_original_where_the_mask_is_0():
    weight = core.modified_nmask(torch.tensor([0.0, 0.5, 1.0]), 1e-6, 8.0, 1e-300)
    assert weight.tolist() == [0.0, 1.0, 1.0]
    assert math.isfinite(core.modified_nmask(torch.tensor([0.5]), 1e300, 8.0, 8.0).item())
