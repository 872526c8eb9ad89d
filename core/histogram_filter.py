"""The weighted percentile filter of A1111's soft inpainting, vectorised.

Around each pixel, the pixels under the kernel are sorted by value and stacked, each as tall as its
kernel weight. The output is the average value over a band of that stack, from `percentile_min` to
`percentile_max` of its height, each pixel counted by how much of it lies inside the band. A band of
0.5-0.5 widened to one unit is a weighted median; 0.9-1 is a soft maximum.

How: each window entry becomes one int64 key, its float32 value's bits high and its weight's bits low, so
a plain integer sort (numpy's, in place) orders values with their weights in tow; no argsort, no gathers.
Stack positions are summed in float64. Which entries lie inside the image, and so each stack's band,
depends only on how near an edge a pixel is: worked out once per kind of pixel. Chunks bound the memory.
The padded keys and every view of them and of the work space are made once for all passes of a call.
"""

import math
import numbers
import sys

import numpy as np
import torch

from .precision import wide_float
from .tensor_checks import check_range, check_sides, check_tensor

# Bound on the window elements held at once (images * rows * W * k*k), to cap memory on large images
# and videos: the work space is 24 bytes an element (12 MiB). A 128x128 latent (a 1024x1024 picture) is
# one chunk: each chunk more is some thirty more torch calls.
_WINDOW_ELEMENTS_PER_CHUNK = 1 << 19

# The largest max_radius of gaussian_kernel: the filter holds a row of windows at once, 24 bytes for each
# window entry, and a kernel of radius 16 (1089 entries) already makes that 400 MiB for a 16384-wide image.
MAX_KERNEL_RADIUS = 16

# Where a packed int64 key keeps its two float32 words: the value (sort key) high, the weight low.
_VALUE_WORD, _WEIGHT_WORD = (1, 0) if sys.byteorder == "little" else (0, 1)
_LOW_WORD = 0xFFFFFFFF
_FLOAT32_MAX = torch.finfo(torch.float32).max


def gaussian_kernel(stddev_radius: float = 1.0, max_radius: int = 2) -> tuple[torch.Tensor, int]:
    """A (2*max_radius+1)^2 Gaussian, 1 at the centre, shifted and rescaled to reach 0 at max_radius+1.

    `stddev_radius` > 0 (a tiny one leaves the centre alone, a huge one the limit 1 - d^2/(max_radius+1)^2);
    `max_radius` a whole number from 0 to MAX_KERNEL_RADIUS. Returns the float64 kernel and the index of
    its centre on both axes.
    """
    stddev_radius = check_range(stddev_radius, "gaussian_kernel: stddev_radius", 0, low_open=True)
    if check_range(max_radius, "gaussian_kernel: max_radius", 0, MAX_KERNEL_RADIUS) != int(max_radius):
        raise ValueError(f"gaussian_kernel: max_radius must be a whole number >= 0, got {max_radius}")
    max_radius = int(max_radius)
    offsets = np.arange(2 * max_radius + 1, dtype=np.float64) - max_radius
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    kernel = np.zeros_like(squared)
    inside = squared < (max_radius + 1.0) ** 2
    kernel[inside] = _shifted_gaussian(squared[inside], (max_radius + 1.0) ** 2, stddev_radius)
    return torch.from_numpy(kernel), max_radius


def _shifted_gaussian(squared, zero_at, stddev):
    """(g(x) - g(R)) / (1 - g(R)) with g(x) = exp(-x / stddev^2), for squared distances x < R = `zero_at`.

    As exp(-x/s^2) expm1((x-R)/s^2) / expm1(-R/s^2), each exponent divided by s twice: s^2 is 0 below
    s = 1e-162 and inf above 1e154, and 1 - g(R) is 0 once R/s^2 is below float64's precision. There the
    Gaussian is flat to float64's precision and the kernel is its limit 1 - x/R."""
    if zero_at / stddev / stddev < np.finfo(np.float64).eps:
        return 1 - squared / zero_at
    with np.errstate(over="ignore"):  # a tiny stddev: the exponents are -inf, the kernel the centre alone
        return np.exp(-squared / stddev / stddev) * np.expm1((squared - zero_at) / stddev / stddev) \
            / np.expm1(-zero_at / stddev / stddev)


def _center_pair(kernel_center, kernel_shape) -> tuple[int, int]:
    if isinstance(kernel_center, numbers.Integral) and not isinstance(kernel_center, bool):  # the usual case
        center = (int(kernel_center),) * 2
    else:
        try:
            pair = np.broadcast_to(np.asarray(kernel_center), (2,))
        except ValueError:  # a ragged or longer sequence
            pair = np.asarray(())
        if pair.dtype.kind not in "iu" or pair.shape != (2,):
            raise TypeError(f"weighted_histogram_filter: kernel_center must be a whole number or a pair of them "
                            f"(row, column), got {kernel_center!r:.60}")
        center = tuple(int(c) for c in pair)
    if not all(0 <= c < size for c, size in zip(center, kernel_shape, strict=True)):
        raise ValueError(
            f"weighted_histogram_filter: kernel_center {kernel_center} lies outside the kernel {kernel_shape}"
        )
    return center


def _checked_kernel(kernel) -> torch.Tensor:
    try:
        kernel = torch.as_tensor(kernel)
    except (TypeError, ValueError, RuntimeError):  # what torch raises for what is no array of numbers
        kernel = None
    if kernel is None or kernel.is_complex():
        raise TypeError("weighted_histogram_filter: kernel must be a 2-D tensor or array of weights")
    if not kernel.is_floating_point():  # whole-number or bool weights
        kernel = kernel.double()
    if kernel.ndim != 2:
        raise ValueError(f"weighted_histogram_filter: kernel must be 2-D, got shape {tuple(kernel.shape)}")
    if max(kernel.shape) > 2 * MAX_KERNEL_RADIUS + 1:
        raise ValueError(f"weighted_histogram_filter: kernel must be at most {2 * MAX_KERNEL_RADIUS + 1} on a side "
                         f"(2 * MAX_KERNEL_RADIUS + 1), got shape {tuple(kernel.shape)}")
    check_tensor(kernel, "weighted_histogram_filter: kernel")
    if bool((kernel < 0).any()):
        raise ValueError("weighted_histogram_filter: kernel weights must be >= 0 (they are stack heights)")
    return kernel


def _checked_band(percentile_min, percentile_max, min_width) -> tuple[float, float, float]:
    where = "weighted_histogram_filter"
    percentile_min = check_range(percentile_min, f"{where}: percentile_min", 0, 1)
    percentile_max = check_range(percentile_max, f"{where}: percentile_max", 0, 1)
    if percentile_min > percentile_max:
        raise ValueError(f"{where}: need percentile_min <= percentile_max, got {percentile_min} and {percentile_max}")
    return percentile_min, percentile_max, check_range(min_width, f"{where}: min_width", 0, low_open=True)


def _band(total, percentile_min, percentile_max, min_width):
    """The band of the stack to average over: widened to `min_width`, moved back inside the stack."""
    low, high = total * percentile_min, total * percentile_max
    narrow = (high - low) < min_width
    middle = (low + high) / 2
    low = np.where(narrow, middle - min_width / 2, low)
    high = np.where(narrow, middle + min_width / 2, high)
    over_top = narrow & (high > total)
    high = np.where(over_top, total, high)
    low = np.where(over_top, total - min_width, low)
    under_bottom = narrow & (low < 0)
    return np.where(under_bottom, 0, low), np.where(under_bottom, min_width, high)


def _line_kinds(size, kernel_size, kernel_center):
    """Rows (or columns) of an image by which of a window's rows (columns) lie inside it: the kinds'
    inside-ness [kinds, kernel_size] and each line's kind [size]. A line's kind is how many window lines
    it has above and below, each at most what the kernel reaches."""
    above, below = kernel_center, kernel_size - 1 - kernel_center
    line = np.arange(size)
    kind = np.minimum(line, above) * (below + 1) + np.minimum(size - 1 - line, below)
    kind_above, kind_below = np.divmod(np.arange((above + 1) * (below + 1)), below + 1)
    offset = np.arange(kernel_size) - kernel_center
    return (offset >= -kind_above[:, None]) & (offset <= kind_below[:, None]), kind


def _stack_bands(weights, center, height, width, passes, dtype):
    """Per pass and pixel of a height x width image: its stack's band (low, high) and 1 / how much of the
    band the stack fills (0 if none), [3, H, W] in `dtype` on the weights' device. They depend only on which
    window entries lie inside the image, so every image and chunk shares them; they are worked out once
    per kind of pixel, for all passes at once, in numpy (on such small arrays much quicker than torch)."""
    kernel = weights.detach().cpu().double().numpy()
    row_kinds, row_kind = _line_kinds(height, kernel.shape[0], center[0])
    column_kinds, column_kind = _line_kinds(width, kernel.shape[1], center[1])
    total = row_kinds @ kernel @ column_kinds.T  # inside-ness is a row test times a column test
    percentile_min, percentile_max, min_width = np.asarray(passes, dtype=np.float64).T[:, :, None, None]
    low, high = _band(total, percentile_min, percentile_max, min_width)
    covered = np.clip(total, low, high) - low
    inverse = np.divide(1, covered, out=np.zeros_like(covered), where=covered != 0)
    bands = np.ascontiguousarray(np.stack([low, high, inverse], axis=1)[:, :, row_kind][..., column_kind])
    return torch.from_numpy(bands).to(device=weights.device, dtype=dtype).unbind(0)


class _WorkSpace:
    """Work space for the chunks of a filter call: sorted keys and two rows of wide floats per window."""

    def __init__(self, elements, device, wide):
        self.keys = torch.empty(elements, dtype=torch.int64, device=device)
        self.top, self.overlap = (torch.empty(elements, dtype=wide, device=device) for _ in range(2))


class _BandAverage:
    """Band averages of sorted windows, with its views of the work space made once for every pass.
    Stack positions are summed in the bands' (wide) type: float32 positions near the top of a stack of
    weight 6 are off by 5e-7, too much for a narrow band. Each step converts first and then works in one
    type: torch's mixed-type arithmetic is many times slower."""

    def __init__(self, values, weights, images, work):
        """values, weights: sorted windows [images*rows*W, k*k] (views that later passes refill)."""
        shape = (images, values.shape[0] // images, values.shape[1])
        self.values, self.weights = values.view(shape), weights.view(shape)
        self.top, self.overlap = (buffer[: values.numel()].view(shape) for buffer in (work.top, work.overlap))
        # Stack positions: the first, the others, and each one's predecessor; and the overlaps they give.
        self.positions = (self.top[..., 0], self.top[..., 1:], self.top[..., :-1])
        self.overlaps = (self.overlap[..., 0], self.overlap[..., 1:])

    def __call__(self, stack_bands, rows, out, values=None):
        """The band averages of `rows` into `out` [images, rows*W]; `values` replaces the values view."""
        low, high, inverse_covered = (b[rows].reshape(-1) for b in stack_bands)
        top, (first, later, earlier), (first_overlap, later_overlaps) = self.top, self.positions, self.overlaps
        top.copy_(self.weights).cumsum_(dim=2)
        # Stack positions clamped to the band; successive differences are each entry's overlap with it.
        torch.minimum(torch.maximum(top, low[:, None], out=top), high[:, None], out=top)
        torch.sub(first, low, out=first_overlap)
        torch.sub(later, earlier, out=later_overlaps)
        # The positions' buffer then takes the wide values: one buffer fewer to bring into the cache.
        values = self.values if values is None else values.view(top.shape)
        weighted_sum = top.copy_(values).mul_(self.overlap).sum(dim=2)
        torch.mul(weighted_sum, inverse_covered, out=out)


def _sort_rows(keys: torch.Tensor, use_numpy: bool) -> torch.Tensor:
    """Each row of int64 keys sorted in place; on the CPU by numpy (torch's sort is several times slower)."""
    if use_numpy:
        keys.numpy().sort(axis=1)
    else:
        keys.copy_(torch.sort(keys, dim=1).values)
    return keys


def _monotone_bits(bits: torch.Tensor) -> torch.Tensor:
    """float32 bits (as int32) <-> int32 that sort as the floats do: negative floats' magnitude bits flip.
    Its own inverse."""
    return bits ^ ((bits >> 31) & 0x7FFFFFFF)


class _PackedWindows:
    """Windows of float32 images as int64 keys, value bits high and weight bits low, so that one sort of
    plain integers orders each window by value with its weights in tow (ties order by weight, which
    does not change the band average). Pixels outside the image are key 0: value 0, weight 0.
    Made once for all passes: each pass loads its images into the padded keys, and the chunks' views of
    them and of the work space serve every pass."""

    def __init__(self, shape, kernel, center, chunks, work):
        count, height, width = shape
        (kh, kw), (cy, cx) = kernel.shape, center
        self.padded = torch.zeros((count, height + kh - 1, width + kw - 1), dtype=torch.int64, device=kernel.device)
        words = self.padded.view(torch.int32).view(*self.padded.shape, 2)[:, cy: cy + height, cx: cx + width]
        words[..., _WEIGHT_WORD].fill_(-1)  # all weight bits set: each kernel entry's mask keeps its own
        self.values_in = words[..., _VALUE_WORD]
        weight_bits = kernel.view(torch.int32).to(torch.int64)
        masks = ((weight_bits & _LOW_WORD) | ~_LOW_WORD).unbind(0)  # keeps a key's value and sets its weight
        self.chunks = [(images, rows, _PackedChunk(self.padded[images], rows, masks, work)) for images, rows in chunks]

    def filter(self, images, stack_bands, out):
        """One pass over the float32 images [count, H, W] into `out` (which may be `images`: they are
        loaded into the padded keys first)."""
        bits = images.view(torch.int32)
        signed = bool((bits < 0).any())  # only then must the values' bits be mapped back
        self.values_in.copy_(_monotone_bits(bits) if signed else bits)
        for chunk, rows, windows in self.chunks:
            windows.filter(stack_bands, rows, out[chunk, rows].view(chunk.stop - chunk.start, -1), signed)


class _PackedChunk:
    """One chunk's views: its windows' rows in the padded keys, and the sorted keys in the work space."""

    def __init__(self, padded, rows, masks, work):
        kh, kw = len(masks), masks[0].shape[0]
        shape = (padded.shape[0], rows.stop - rows.start, padded.shape[2] - kw + 1, kh, kw)
        keys = work.keys[: math.prod(shape)].view(shape)
        # A kernel row at a time: faster than one 5-D strided pass.
        self.kernel_rows = [(padded[:, rows.start + i: rows.stop + i].unfold(2, kw, 1), masks[i], keys[:, :, :, i])
                            for i in range(kh)]
        self.keys = keys.view(-1, kh * kw)
        words = self.keys.view(torch.int32).view(*self.keys.shape, 2)
        self.value_bits = words[..., _VALUE_WORD]
        weights = words[..., _WEIGHT_WORD].view(torch.float32)
        self.average = _BandAverage(self.value_bits.view(torch.float32), weights, shape[0], work)

    def filter(self, stack_bands, rows, out, signed):
        for window_row, mask, keys in self.kernel_rows:
            torch.bitwise_and(window_row, mask, out=keys)
        _sort_rows(self.keys, use_numpy=self.keys.device.type == "cpu")
        values = _monotone_bits(self.value_bits).view(torch.float32) if signed else None
        self.average(stack_bands, rows, out, values)


def _chunks(count, height, width, window):
    """(images, rows) slices of a [count, height, width] stack, each within the chunk bound."""
    per_image = height * width * window
    if per_image <= _WINDOW_ELEMENTS_PER_CHUNK:
        step = _WINDOW_ELEMENTS_PER_CHUNK // per_image
        for first in range(0, count, step):
            yield slice(first, min(count, first + step)), slice(0, height)
        return
    rows_per_chunk = max(1, _WINDOW_ELEMENTS_PER_CHUNK // (width * window))
    for index in range(count):
        for top_row in range(0, height, rows_per_chunk):
            yield slice(index, index + 1), slice(top_row, min(height, top_row + rows_per_chunk))


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
    Values are filtered in float32 (float64 images too, whose values must lie in float32's range), with
    stack positions in float64, chunk by chunk.
    """
    check_tensor(img, "weighted_histogram_filter: img")
    if img.ndim not in (2, 3):
        raise ValueError(f"weighted_histogram_filter: img must be [H,W] or [B,H,W], got shape {tuple(img.shape)}")
    check_sides(img, "weighted_histogram_filter: img")
    if img.dtype == torch.float64 and bool(img.abs().max() > _FLOAT32_MAX):
        raise ValueError(f"weighted_histogram_filter: img values must lie within +-{_FLOAT32_MAX:.4g} "
                         "(they are filtered in float32)")
    band = _checked_band(percentile_min, percentile_max, min_width)
    kernel = _checked_kernel(kernel)
    # Any layout: the filter views the image's memory.
    return checked_passes(img.contiguous(), kernel, _center_pair(kernel_center, tuple(kernel.shape)), [band])


def checked_passes(img: torch.Tensor, kernel: torch.Tensor, center: tuple[int, int], passes) -> torch.Tensor:
    """weighted_histogram_filter once per (percentile_min, percentile_max, min_width) in `passes`, each
    pass filtering the one before, for arguments known to be valid (a finite [B,H,W] float image within
    float32's range, a float kernel of weights >= 0 with its centre pair, checked bands): the adaptive
    mask's, whose checks cost as much as a small image's filtering. Its passes share windows and work space."""
    images = img.detach().reshape(-1, *img.shape[-2:]).float()  # float32 values and weights pack into one key
    wide = wide_float(img.device)
    chunks = list(_chunks(*images.shape, kernel.numel()))
    largest = max((c.stop - c.start) * (r.stop - r.start) for c, r in chunks) * images.shape[2] * kernel.numel()
    weights = kernel.to(device=img.device, dtype=torch.float32)  # as they are stacked
    windows = _PackedWindows(images.shape, weights, center, chunks, _WorkSpace(largest, img.device, wide))
    out = torch.empty_like(images)  # every pass's output: a pass has read its images once loaded
    for stack_bands in _stack_bands(weights, center, *images.shape[1:], passes, wide):
        windows.filter(images, stack_bands, out)
        images = out
    return images.reshape(img.shape).to(img.dtype)
