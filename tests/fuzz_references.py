"""Independent formulas for the core fuzzing: each public function re-derived from its documented definition
(or from A1111's steps) plainly, per pixel, in float64 or in mpmath's arbitrary precision. None of them
calls the code under test; tests/reference_filter.py is the filter's per-pixel definition."""

import math

import mpmath
import numpy as np
from PIL import Image, ImageFilter
from reference_filter import reference_filter

FLOAT32_MAX = float(np.finfo(np.float32).max)


def _mpf(value):
    return value if isinstance(value, mpmath.mpf) else mpmath.mpf(float(value))


def power_mean(a, b, t, p):
    """((1-t) a^p + t b^p)^(1/p) of two lengths >= 0; mpmath has no overflow, and digits enough for any p."""
    with mpmath.workdps(40 + max(0, int(-math.log10(p)))):
        a, b, t, p = _mpf(a), _mpf(b), _mpf(t), _mpf(p)
        if t == 0 or t == 1:
            return b if t == 1 else a
        return ((1 - t) * a**p + t * b**p) ** (1 / p)


def latent_blend_pixel(a, b, t, p, epsilon=1e-5):
    """One latent pixel of latent_blend: the linear blend of the channel vectors a and b (t per channel),
    rescaled from its length (+ epsilon) to the power mean of theirs (by the first channel's t).
    Returns the blended vector, the rescale (power mean over length + epsilon), and the lengths of a and
    b over length + epsilon."""
    with mpmath.workdps(40):
        linear = [(1 - _mpf(w)) * _mpf(x) + _mpf(w) * _mpf(y) for x, y, w in zip(a, b, t, strict=True)]
        current = mpmath.sqrt(sum(v * v for v in linear)) + epsilon
        a_length, b_length = mpmath.norm([_mpf(x) for x in a]), mpmath.norm([_mpf(y) for y in b])
        scale = power_mean(a_length, b_length, t[0], p) / current
        return [float(v * scale) for v in linear], float(scale), float((a_length + b_length) / current)


def scheduled_weight(mask, sigma, power, scale):
    """nmask ** (sigma**power * scale), the mask clamped to 0-1; 0 ** 0 is 1."""
    mask = min(max(float(mask), 0.0), 1.0)
    with mpmath.workdps(30):
        exponent = _mpf(sigma) ** _mpf(power) * _mpf(scale)
        if mask == 0 or mask == 1 or exponent == 0:
            return 0.0 if mask == 0 and exponent > 0 else 1.0
        log_weight = exponent * mpmath.log(mask)
        return 0.0 if log_weight < -800 else float(mpmath.exp(log_weight))  # mpmath's exp of -1e1900 is slow


def flow_to_sd_sigma(s, largest):
    """s / (1 - s) of a flow sigma clamped to 0-1, 1 - s at least 1e-6, capped at min(1e6, largest)."""
    s = min(max(float(s), 0.0), 1.0)
    return min(s / max(1 - s, 1e-6), 1e6, largest)


def smootherstep(x):
    x = min(max(float(x), 0.0), 1.0)
    return x * x * x * (6 * x * x - 15 * x + 10)


def gaussian_kernel(stddev, radius):
    """(g(d^2) - g(R)) / (1 - g(R)), g(x) = exp(-x / stddev^2), R = (radius+1)^2, at most 0, in digits
    enough for 1 - g(R) when stddev is huge."""
    zero_at = (radius + 1) ** 2
    digits = 40 + 2 * max(0, int(math.log10(stddev)))
    values = {}
    with mpmath.workdps(digits):
        s2 = _mpf(stddev) ** 2
        at_zero = mpmath.exp(-zero_at / s2)
        for squared in {i * i + j * j for i in range(radius + 1) for j in range(radius + 1)}:
            value = (mpmath.exp(-squared / s2) - at_zero) / (1 - at_zero)
            values[squared] = max(0.0, float(value))
    offsets = range(-radius, radius + 1)
    return np.array([[values[i * i + j * j] for j in offsets] for i in offsets])


def blur_kernel(sigma):
    """OpenCV's Gaussian of size 2*int(2.5 sigma + 0.5) + 1, summing to 1."""
    radius = int(2.5 * sigma + 0.5)
    with mpmath.workdps(30):
        weights = [mpmath.exp(-(_mpf(i) / _mpf(sigma)) ** 2 / 2) for i in range(-radius, radius + 1)]
        total = sum(weights)
        return np.array([float(w / total) for w in weights])


def _reflect101(index, size):
    """OpenCV's default border: mirrored without repeating the edge."""
    if size == 1:
        return 0
    period = 2 * (size - 1)
    index %= period
    return period - index if index >= size else index


def _blur_rows(x, sigma):
    kernel = blur_kernel(sigma)
    radius, width = len(kernel) // 2, x.shape[-1]
    taps = np.array([[_reflect101(j + o, width) for o in range(-radius, radius + 1)] for j in range(width)])
    return (x[..., taps] * kernel).sum(axis=-1)


def prepare_mask(mask, blur_x, blur_y, rounding=False, invert=False):
    """A1111's order on a float64 mask [..., H, W]: clamp, binarise at > 128/255, invert, blur x then y."""
    out = np.clip(mask, 0, 1)
    if rounding:
        out = (out > 128 / 255).astype(np.float64)
    if invert:
        out = 1 - out
    if blur_x > 0:
        out = _blur_rows(out, blur_x)
    if blur_y > 0:
        out = np.swapaxes(_blur_rows(np.swapaxes(out, -1, -2), blur_y), -1, -2)
    return np.clip(out, 0, 1)


def levels(mask):
    """A mask's 8-bit levels, by rounding."""
    return np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8)


def latent_mask(mask, height, width):
    """A1111's latent mask of one [H,W] mask: 8 bits, Pillow's default (bicubic) resize, / 255."""
    return np.asarray(Image.fromarray(levels(mask)).resize((width, height), Image.BICUBIC)) / 255


def conditioning_mask(mask, height, width):
    """The 8-bit mask resized by torch's nearest: source index floor(i * (in / out)), in float32."""
    rows = _nearest(mask.shape[0], height)
    columns = _nearest(mask.shape[1], width)
    return levels(mask)[rows][:, columns] / 255


def _nearest(size, out):
    scale = np.float32(size) / np.float32(out)
    return np.minimum(np.floor(np.arange(out, dtype=np.float32) * scale).astype(int), size - 1)


def pixel_composite_mask(mask, height, width):
    """A1111's composite mask of one [h,w] latent mask: truncated to 8 bits, Lanczos, Gaussian blur 4."""
    truncated = (np.clip(mask, 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(truncated).resize((width, height), Image.LANCZOS)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius=4))) / 255


def filtered_distance(orig, processed):
    """The distance map of one latent frame ([C,h,w] float64 each), held in float32 (its range clamped),
    through both of A1111's filter passes with the 1.5/2 Gaussian kernel (weights in float32)."""
    with np.errstate(over="ignore"):
        difference = processed - orig
    length = np.apply_along_axis(lambda vector: math.hypot(*vector), 0, difference)
    length = length.clip(max=FLOAT32_MAX).astype(np.float32).astype(np.float64)
    kernel = gaussian_kernel(1.5, 2).astype(np.float32).astype(np.float64)
    soft_max = np.array(reference_filter(length, kernel, 2, 0.9, 1.0, 1.0))
    return np.array(reference_filter(soft_max.astype(np.float32), kernel, 2, 0.25, 0.75, 1.0)), length.max()


def threshold(mask, settings):
    """The distance at which the original's opacity falls to 50%, per latent pixel (mask in 0-1)."""
    if settings.mask_influence == 0:
        bias = np.full_like(mask, 0.5)
    else:
        bias = 0.5 * (1 - settings.mask_influence) + (1 - mask ** (settings.preservation_strength / 2)) \
            * settings.mask_influence
    return settings.difference_threshold * bias / (1.00001 - bias)


def adaptive_mask(distance, threshold_, contrast):
    """1 - smootherstep(1 / (1 + (distance / threshold)^contrast)); 0/0 is no change (ratio 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(distance == 0, 0.0, distance / threshold_)
        inverse = 1 / (1 + ratio**contrast)
    return 1 - np.vectorize(smootherstep)(inverse)
