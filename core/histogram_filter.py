"""The weighted percentile filter of A1111's soft inpainting, vectorised.

Around each pixel, the pixels under the kernel are sorted by value and stacked, each as tall as its
kernel weight. The output is the average value over a band of that stack, from `percentile_min` to
`percentile_max` of its height, each pixel counted by how much of it lies inside the band. A band of
0.5-0.5 widened to one unit is a weighted median; 0.9-1 is a soft maximum.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from .precision import wide_float
from .tensor_checks import check_range, check_tensor

# Bound on the unfolded window elements held at once (B * rows * W * k*k), to cap memory on large images.
_WINDOW_ELEMENTS_PER_CHUNK = 1 << 22


def gaussian_kernel(stddev_radius: float = 1.0, max_radius: int = 2) -> tuple[torch.Tensor, int]:
    """A (2*max_radius+1)^2 Gaussian, 1 at the centre, shifted and rescaled to reach 0 at max_radius+1.

    Returns the float64 kernel and the index of its centre on both axes.
    """
    stddev_radius = check_range(stddev_radius, "gaussian_kernel: stddev_radius", 0, low_open=True)
    if check_range(max_radius, "gaussian_kernel: max_radius", 0) != int(max_radius):
        raise ValueError(f"gaussian_kernel: max_radius must be a whole number >= 0, got {max_radius}")
    max_radius = int(max_radius)

    def gaussian(squared_distance):
        return np.exp(-squared_distance / (stddev_radius * stddev_radius))

    at_zero_radius = gaussian((max_radius + 1.0) ** 2)
    offsets = np.arange(2 * max_radius + 1, dtype=np.float64) - max_radius
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    kernel = np.maximum(0.0, (gaussian(squared) - at_zero_radius) / (1 - at_zero_radius))
    return torch.from_numpy(kernel), max_radius


def _center_pair(kernel_center, kernel_shape) -> tuple[int, int]:
    center = tuple(int(c) for c in np.broadcast_to(np.asarray(kernel_center), (2,)))
    if not all(0 <= c < size for c, size in zip(center, kernel_shape, strict=True)):
        raise ValueError(
            f"weighted_histogram_filter: kernel_center {kernel_center} lies outside the kernel {kernel_shape}"
        )
    return center


def _checked_kernel(kernel) -> torch.Tensor:
    kernel = torch.as_tensor(kernel)
    if not kernel.is_floating_point():  # whole-number or bool weights
        kernel = kernel.double()
    if kernel.ndim != 2:
        raise ValueError(f"weighted_histogram_filter: kernel must be 2-D, got shape {tuple(kernel.shape)}")
    check_tensor(kernel, "weighted_histogram_filter: kernel")
    if bool((kernel < 0).any()):
        raise ValueError("weighted_histogram_filter: kernel weights must be >= 0 (they are stack heights)")
    return kernel


def _check_filter_args(img, percentile_min, percentile_max, min_width) -> None:
    check_tensor(img, "weighted_histogram_filter: img")
    if img.ndim not in (2, 3):
        raise ValueError(f"weighted_histogram_filter: img must be [H,W] or [B,H,W], got shape {tuple(img.shape)}")
    if not 0 <= percentile_min <= percentile_max <= 1:
        raise ValueError(
            "weighted_histogram_filter: need 0 <= percentile_min <= percentile_max <= 1, "
            f"got {percentile_min} and {percentile_max}"
        )
    if not (min_width > 0 and math.isfinite(min_width)):
        raise ValueError(f"weighted_histogram_filter: min_width must be a finite number > 0, got {min_width}")


def _band(total, percentile_min, percentile_max, min_width):
    """The band of the stack to average over: widened to `min_width`, moved back inside the stack."""
    low, high = total * percentile_min, total * percentile_max
    narrow = (high - low) < min_width
    middle = (low + high) / 2
    low = torch.where(narrow, middle - min_width / 2, low)
    high = torch.where(narrow, middle + min_width / 2, high)
    over_top = narrow & (high > total)
    high = torch.where(over_top, total, high)
    low = torch.where(over_top, total - min_width, low)
    under_bottom = narrow & (low < 0)
    low = torch.where(under_bottom, torch.zeros_like(low), low)
    high = torch.where(under_bottom, torch.full_like(high, min_width), high)
    return low, high


def _argsort_rows(values: torch.Tensor, use_numpy: bool) -> torch.Tensor:
    """Order of each row's values. Ties may come in any order: tied entries have one value, so the
    band average is the same whichever of them fills which part of the band."""
    if use_numpy:  # on the CPU, numpy's vectorised quicksort is several times faster than torch's
        exact = values.float() if values.dtype == torch.bfloat16 else values  # numpy has no bfloat16
        return torch.from_numpy(np.argsort(exact.detach().numpy(), axis=1))
    return torch.argsort(values, dim=1)


def _filter_windows(values, weights, percentile_min, percentile_max, min_width):
    """Filter windows given as rows: values [M, k*k] (input dtype), weights [M, k*k] (wide) -> [M] wide."""
    order = _argsort_rows(values, use_numpy=values.device.type == "cpu")
    values = torch.gather(values, 1, order).to(weights.dtype)
    top = torch.cumsum(torch.gather(weights, 1, order), dim=1)
    low, high = _band(top[:, -1:], percentile_min, percentile_max, min_width)
    # Stack positions clamped to the band; successive differences are each entry's overlap with it.
    clamped = torch.clamp(top, low, high)
    overlap = torch.diff(clamped, dim=1, prepend=low)
    covered = clamped[:, -1] - low[:, 0]
    weighted_sum = (values * overlap).sum(dim=1)
    return torch.where(covered != 0, weighted_sum / torch.where(covered != 0, covered, 1), 0)


def _windows(padded, rows, kh, kw):
    """[N, rows+kh-1, W+kw-1] -> [N*rows*W, kh*kw]: one row per output pixel, kernel order."""
    return padded.unfold(1, kh, 1).unfold(2, kw, 1).reshape(-1, kh * kw)


def weighted_histogram_filter(
    img: torch.Tensor,
    kernel,
    kernel_center,
    percentile_min: float = 0.0,
    percentile_max: float = 1.0,
    min_width: float = 1.0,
) -> torch.Tensor:
    """Apply the weighted percentile filter to `img` ([H,W] or [B,H,W]); same shape, dtype and device.

    The window of pixel (y, x) covers img[y - cy + i, x - cx + j] for kernel[i, j], with
    (cy, cx) = `kernel_center`; only pixels inside the image count. A band narrower than
    `min_width` weight units is widened around its middle and shifted back inside the stack.
    """
    _check_filter_args(img, percentile_min, percentile_max, min_width)
    kernel = _checked_kernel(kernel)
    cy, cx = _center_pair(kernel_center, tuple(kernel.shape))
    kh, kw = kernel.shape
    wide = wide_float(img.device)

    batch = img.reshape(-1, *img.shape[-2:])
    n, height, width = batch.shape
    padding = (cx, kw - 1 - cx, cy, kh - 1 - cy)
    # Out-of-image window entries get weight 0: they take no room in the stack, as if absent.
    padded = F.pad(batch, padding)
    inside = F.pad(torch.ones(1, height, width, device=img.device, dtype=wide), padding)
    kernel_row = kernel.to(device=img.device, dtype=wide).reshape(1, -1)

    rows_per_chunk = max(1, _WINDOW_ELEMENTS_PER_CHUNK // max(1, n * width * kh * kw))
    out_rows = []
    for top_row in range(0, height, rows_per_chunk):
        rows = min(rows_per_chunk, height - top_row)
        span = slice(top_row, top_row + rows + kh - 1)
        values = _windows(padded[:, span], rows, kh, kw)
        weights = (_windows(inside[:, span], rows, kh, kw) * kernel_row).repeat(n, 1)
        filtered = _filter_windows(values, weights, percentile_min, percentile_max, min_width)
        out_rows.append(filtered.reshape(n, rows, width))
    return torch.cat(out_rows, dim=1).reshape(img.shape).to(img.dtype)
