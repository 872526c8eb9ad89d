"""The vectorised filter against the plain per-pixel reference, plus its kernel and errors."""

import numpy as np
import pytest
import torch
from reference_filter import reference_filter

import core
import core.histogram_filter as histogram_filter

BANDS = [(0.9, 1.0, 1.0), (0.25, 0.75, 1.0), (0.0, 1.0, 1.0), (0.5, 0.5, 1.0), (0.0, 0.0, 0.5),
         (1.0, 1.0, 2.0), (0.3, 0.9, 3.0), (0.1, 0.2, 50.0)]


def _random_image(seed, height, width, levels=None):
    rng = np.random.default_rng(seed)
    if levels:  # few distinct values: many ties
        return rng.integers(0, levels, size=(height, width)).astype(np.float32)
    return rng.random((height, width), dtype=np.float32) * 3


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("band", BANDS, ids=lambda b: "-".join(map(str, b)))
def test_matches_reference_on_random_images(seed, band):
    rng = np.random.default_rng(100 + seed)
    height, width = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    img = _random_image(seed, height, width, levels=3 if seed % 2 else None)
    radius = int(rng.integers(0, 3))
    kernel = rng.random((2 * radius + 1, 2 * radius + 1))
    if seed % 3 == 0:
        kernel[0, 0] = 0.0  # zero-weight entries take no room in the stack
    expected = np.array(reference_filter(img, kernel, radius, *band), dtype=np.float32)
    got = core.weighted_histogram_filter(torch.from_numpy(img), torch.from_numpy(kernel), radius, *band)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_gaussian_kernel_shape_peak_and_taper():
    kernel, center = core.gaussian_kernel(stddev_radius=1.5, max_radius=2)
    assert kernel.shape == (5, 5) and center == 2 and kernel.dtype == torch.float64
    assert kernel[2, 2] == 1.0
    assert torch.equal(kernel, kernel.T) and torch.equal(kernel, kernel.flip(0))
    assert (kernel > 0).all() and kernel[0, 0] < kernel[0, 1] < kernel[0, 2]
    # Tapered to reach 0 one pixel past max_radius: exp(-d^2/s^2) rescaled so exp(-9/s^2) maps to 0.
    zero = np.exp(-9 / 2.25)
    assert kernel[2, 0].item() == pytest.approx((np.exp(-4 / 2.25) - zero) / (1 - zero), rel=1e-12)


def test_batch_is_filtered_per_sample():
    images = torch.from_numpy(np.stack([_random_image(s, 9, 7, levels=4) for s in range(3)]))
    kernel, center = core.gaussian_kernel(1.5, 2)
    batched = core.weighted_histogram_filter(images, kernel, center, 0.25, 0.75, 1.0)
    for i in range(3):
        single = core.weighted_histogram_filter(images[i], kernel, center, 0.25, 0.75, 1.0)
        torch.testing.assert_close(batched[i], single, rtol=0, atol=0)


def test_row_chunks_give_the_same_result(monkeypatch):
    img = torch.from_numpy(_random_image(7, 23, 17))
    kernel, center = core.gaussian_kernel(1.5, 2)
    whole = core.weighted_histogram_filter(img, kernel, center, 0.9, 1.0, 1.0)
    monkeypatch.setattr(histogram_filter, "_WINDOW_ELEMENTS_PER_CHUNK", 17 * 25 * 2)  # two rows a chunk
    chunked = core.weighted_histogram_filter(img, kernel, center, 0.9, 1.0, 1.0)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=0)


def test_asymmetric_center_and_rectangular_kernel():
    img = _random_image(3, 6, 8)
    kernel = np.random.default_rng(3).random((3, 5))
    got = core.weighted_histogram_filter(torch.from_numpy(img), kernel, (0, 3), 0.2, 0.6, 1.0)
    expected = _rect_reference(img, kernel, (0, 3), 0.2, 0.6, 1.0)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def _rect_reference(img, kernel, center, pmin, pmax, min_width):
    # Embed the rectangular kernel in a square one centred on (cy, cx): zero weights take no room.
    cy, cx = center
    size = 2 * max(kernel.shape) + 1
    square = np.zeros((size, size))
    mid = size // 2
    square[mid - cy: mid - cy + kernel.shape[0], mid - cx: mid - cx + kernel.shape[1]] = kernel
    return np.array(reference_filter(img, square, mid, pmin, pmax, min_width), dtype=np.float32)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_keeps_dtype(dtype):
    img = torch.rand(5, 6).to(dtype)
    out = core.weighted_histogram_filter(img, *core.gaussian_kernel(1.5, 2), 0.25, 0.75, 1.0)
    assert out.dtype == dtype and torch.isfinite(out).all()


def test_does_not_modify_input():
    img = torch.rand(2, 5, 6)
    before = img.clone()
    core.weighted_histogram_filter(img, *core.gaussian_kernel(1.5, 2), 0.9, 1.0, 1.0)
    assert torch.equal(img, before)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"img": torch.rand(2, 2, 5, 5)}, "img must be"),
        ({"kernel": torch.ones(3)}, "kernel must be 2-D"),
        ({"kernel_center": 5}, "kernel_center"),
        ({"percentile_min": 0.8, "percentile_max": 0.2}, "percentile_min"),
        ({"min_width": 0.0}, "min_width"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    args = {"img": torch.rand(5, 5), "kernel": torch.ones(3, 3), "kernel_center": 1,
            "percentile_min": 0.0, "percentile_max": 1.0, "min_width": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        core.weighted_histogram_filter(**args)


@pytest.mark.parametrize("kwargs", [{"stddev_radius": 0}, {"stddev_radius": float("nan")}, {"max_radius": 1.5},
                                    {"max_radius": -1}, {"max_radius": float("nan")}])
def test_gaussian_kernel_rejects_bad_arguments(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f"gaussian_kernel: {name}"):
        core.gaussian_kernel(**kwargs)


@pytest.mark.parametrize(
    "img, kernel, message",
    [
        (torch.tensor([[1.0, float("nan")]]), torch.ones(3, 3), "img holds NaN"),
        (torch.tensor([[1.0, float("-inf")]]), torch.ones(3, 3), "img holds NaN or infinite"),
        (torch.zeros(0, 5), torch.ones(3, 3), "img must not be empty"),
        (torch.rand(4, 4), torch.full((3, 3), float("nan")), "kernel holds NaN"),
        (torch.rand(4, 4), -torch.ones(3, 3), "kernel weights must be >= 0"),
        (torch.tensor([[1.0, -1e39]], dtype=torch.float64), torch.ones(3, 3), "img values must lie within"),
    ],
)
def test_bad_values_raise(img, kernel, message):
    with pytest.raises(ValueError, match=message):
        core.weighted_histogram_filter(img, kernel, 1, 0.25, 0.75, 1.0)


def test_whole_number_kernel_is_accepted():
    img = torch.rand(6, 7)
    np.testing.assert_array_equal(core.weighted_histogram_filter(img, np.ones((3, 3), dtype=np.int64), 1, 0.2, 0.8),
                                  core.weighted_histogram_filter(img, torch.ones(3, 3), 1, 0.2, 0.8))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("seed", range(4))
def test_signed_values_and_every_dtype_match_reference(seed, dtype):
    # Negative values (and -0.0) take the packed keys' sign mapping; float64 is filtered in float32.
    rng = np.random.default_rng(200 + seed)
    img = (rng.standard_normal((int(rng.integers(1, 10)), int(rng.integers(1, 10)))) * 4).astype(np.float32)
    img.flat[0] = -0.0
    img = torch.from_numpy(img).to(dtype)
    kernel = rng.random((5, 5))
    for band in BANDS:
        expected = np.array(reference_filter(img.double().numpy(), kernel, 2, *band))
        got = core.weighted_histogram_filter(img, torch.from_numpy(kernel), 2, *band)
        assert got.dtype == dtype
        np.testing.assert_allclose(got.double().numpy(), expected, rtol=1e-3 if dtype == torch.float16 else 1e-5,
                                   atol=1e-6)


def test_torch_and_numpy_key_sorts_agree():
    # Other devices sort the packed keys with torch; check that path on the CPU against numpy's.
    keys = torch.randint(-(2**62), 2**62, (300, 25), generator=torch.Generator().manual_seed(0))
    by_torch = histogram_filter._sort_rows(keys.clone(), use_numpy=False)
    assert torch.equal(histogram_filter._sort_rows(keys.clone(), use_numpy=True), by_torch)
    assert (by_torch[:, 1:] >= by_torch[:, :-1]).all()


@pytest.mark.parametrize("band", BANDS, ids=lambda b: "-".join(map(str, b)))
def test_values_of_every_sign_and_magnitude_are_ordered_as_floats(band):
    # The packed keys order float32 bits as integers: negative values, -0.0, subnormals and values near
    # float32's largest must still sort as the floats do.
    values = [-3e38, -2.5, -1e-40, -0.0, 0.0, 1e-40, 2.5, 3e38, 1.0]
    img = np.array(values, dtype=np.float32)[np.random.default_rng(5).permutation(9)].reshape(3, 3)
    kernel = np.random.default_rng(6).random((3, 3))
    expected = np.array(reference_filter(img, kernel, 1, *band))
    got = core.weighted_histogram_filter(torch.from_numpy(img), torch.from_numpy(kernel), 1, *band)
    np.testing.assert_allclose(got.double().numpy(), expected, rtol=1e-5, atol=1e-30)
