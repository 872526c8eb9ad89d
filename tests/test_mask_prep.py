"""A1111's mask blur, rounding and invert."""

import math

import pytest
import torch

from core.mask_prep import MAX_BLUR_SIGMA, blur_kernel, blur_mask, prepare_mask


@pytest.mark.parametrize("sigma, size", [(0.5, 3), (1.0, 7), (4.0, 21), (8.0, 41), (2.3, 13)])
def test_kernel_size_and_weights_are_a1111s(sigma, size):
    kernel = blur_kernel(sigma)
    assert kernel.numel() == size == 2 * int(2.5 * sigma + 0.5) + 1
    middle = size // 2
    raw = [math.exp(-((i - middle) ** 2) / (2 * sigma**2)) for i in range(size)]
    expected = torch.tensor([value / sum(raw) for value in raw], dtype=torch.float64)
    torch.testing.assert_close(kernel, expected, rtol=1e-14, atol=0)


def test_impulse_gives_the_kernel_per_axis():
    mask = torch.zeros(31, 31)
    mask[15, 15] = 1.0
    kernel_x, kernel_y = blur_kernel(2.0, torch.float32), blur_kernel(3.0, torch.float32)
    out = blur_mask(mask, 2.0, 3.0)
    torch.testing.assert_close(out, torch.outer(_centred(kernel_y, 31), _centred(kernel_x, 31)))
    only_x = blur_mask(mask, 2.0, 0.0)
    torch.testing.assert_close(only_x[15], _centred(kernel_x, 31))
    assert torch.equal(only_x[14], torch.zeros(31))


def _centred(kernel, size):
    row = torch.zeros(size)
    start = size // 2 - kernel.numel() // 2
    row[start:start + kernel.numel()] = kernel
    return row


def test_borders_mirror_without_repeating_the_edge():
    row = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0]])
    kernel = blur_kernel(0.5, torch.float32)  # 3 taps
    # Reflect-101: the padded row is [0, 1, 0, 0, 0, 0, 0], so pixel 0 sees 0, 1, 0.
    out = blur_mask(row, 0.5, 0.0)
    torch.testing.assert_close(out[0, 0], kernel[1])
    torch.testing.assert_close(out[0, 1], kernel[0])


def test_kernel_wider_than_the_mask_keeps_constant_masks_constant():
    ones = torch.ones(2, 3, 4)
    torch.testing.assert_close(blur_mask(ones, 16.0, 16.0), ones)


def test_blur_keeps_range_shape_and_dtype():
    mask = (torch.rand(2, 17, 23) > 0.5).to(torch.float16)
    out = blur_mask(mask, 3.0, 1.0)
    assert out.shape == mask.shape and out.dtype == torch.float16
    assert out.min() >= 0 and out.max() <= 1


def test_rounding_invert_then_blur_order():
    mask = torch.tensor([[0.2, 0.5, 0.51, 0.9]])
    rounded = prepare_mask(mask, rounding=True)
    assert rounded.tolist() == [[0.0, 0.0, 1.0, 1.0]]  # A1111's 8-bit threshold: > 128
    assert prepare_mask(mask, rounding=True, invert=True).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    torch.testing.assert_close(prepare_mask(mask, 1.0, 0.0, rounding=True, invert=True),
                               blur_mask(1 - rounded, 1.0, 0.0))
    torch.testing.assert_close(prepare_mask(mask, invert=True), 1 - mask)


def test_input_is_not_modified():
    mask = torch.rand(1, 8, 8)
    before = mask.clone()
    prepare_mask(mask, 2.0, 2.0, rounding=True, invert=True)
    assert torch.equal(mask, before)


@pytest.mark.parametrize("kwargs", [{"blur_x": -1.0}, {"blur_y": float("nan")}])
def test_bad_blur_raises(kwargs):
    with pytest.raises(ValueError, match="blur_"):
        prepare_mask(torch.zeros(4, 4), **{"blur_x": 0.0, "blur_y": 0.0, **kwargs})


def test_overshoot_is_clamped_before_the_blur():
    mask = torch.tensor([[-0.04, 1.05, 0.5, 1 + 1e-6, -1e-6]])
    expected = blur_mask(mask.clamp(0, 1), 1.0, 0.0)
    torch.testing.assert_close(blur_mask(mask, 1.0, 0.0), expected, rtol=0, atol=0)
    torch.testing.assert_close(prepare_mask(mask, invert=True), 1 - mask.clamp(0, 1), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_masks_blur_in_float32(dtype):
    mask = (torch.rand(1, 9, 11, generator=torch.Generator().manual_seed(2)) > 0.5).to(dtype)
    out = blur_mask(mask, 2.0, 3.0)
    assert out.dtype == dtype
    torch.testing.assert_close(out, blur_mask(mask.float(), 2.0, 3.0).to(dtype), rtol=0, atol=0)


def test_bool_masks_give_float32():
    mask = torch.rand(2, 6, 6, generator=torch.Generator().manual_seed(3)) > 0.5
    out = prepare_mask(mask, 1.0, 1.0, invert=True)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, blur_mask(1 - mask.float(), 1.0, 1.0))


@pytest.mark.parametrize(
    "mask, message",
    [
        (torch.zeros(0, 4, 4), "mask must not be empty"),
        (torch.zeros(4, 0), "mask must not be empty"),
        (torch.full((4, 4), math.nan), "mask holds NaN"),
        (torch.full((4, 4), math.inf), "mask holds NaN or infinite"),
        (torch.zeros(4, 4, dtype=torch.uint8), "mask must be a float or bool tensor"),
        (torch.zeros(4), r"mask must be at least \[H,W\]"),
    ],
)
def test_bad_masks_raise_naming_the_mask(mask, message):
    for function in (blur_mask, prepare_mask):
        with pytest.raises((ValueError, TypeError), match=message):
            function(mask, 1.0, 1.0)


@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan, MAX_BLUR_SIGMA * 1.01])
def test_blur_kernel_rejects_sigmas_outside_its_range(sigma):
    with pytest.raises(ValueError, match="blur sigma must be"):
        blur_kernel(sigma)


def test_largest_blur_is_allowed_and_larger_ones_name_the_axis():
    assert blur_kernel(MAX_BLUR_SIGMA).numel() == 1281
    with pytest.raises(ValueError, match=r"blur_y must be in \[0, 256.0\]"):
        blur_mask(torch.zeros(4, 4), 0.0, 2000.0)
    with pytest.raises(TypeError, match="blur_x must be a number"):
        blur_mask(torch.zeros(4, 4), "4", 0.0)
    with pytest.raises(TypeError, match="dtype must be a float"):
        blur_kernel(1.0, dtype=torch.int64)


def test_kernel_wider_than_the_row_sums_over_the_mirrored_row():
    row = torch.tensor([[0.0, 1.0, 0.25, 0.5]], dtype=torch.float64)
    kernel = blur_kernel(3.0)  # 17 taps over a row of 4
    radius = kernel.numel() // 2

    def mirrored(i):  # OpenCV's reflect-101, repeated: period 2 * (4 - 1)
        i = i % 6
        return 6 - i if i >= 4 else i

    expected = [sum(float(kernel[k]) * float(row[0, mirrored(x + k - radius)]) for k in range(kernel.numel()))
                for x in range(4)]
    torch.testing.assert_close(blur_mask(row, 3.0, 0.0)[0], torch.tensor(expected, dtype=torch.float64),
                               rtol=1e-12, atol=0)
