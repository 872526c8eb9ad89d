"""Seeded fuzzing of every public function of core.

Each case draws random shapes (batch 1-3, 4 or 16 channels, 4-D and 5-D latents, 1x1 and odd sizes),
dtypes, values (zeros, 6e4, 1e-30, NaN, inf, empty), masks (all 0, all 1, soft, slightly outside 0-1,
bool) and parameters at their extremes. Every case must either give a finite result of the right shape
and dtype, or raise a ValueError/TypeError naming an input that was drawn bad; no input may change, and a
mask a little outside 0-1 must give the result of the same mask clamped to 0-1.
The cases are deterministic (seeded per function); their count is printed at the end of the module.
"""

import math
import random
import re
import zlib
from dataclasses import fields

import numpy as np
import pytest
import torch

import core
from core.mask_prep import MAX_BLUR_SIGMA

FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
CASES_PER_FUNCTION = 300
CASE_COUNTS = {}

# How a tensor's values are drawn (the weights by repetition).
VALUE_KINDS = ("normal",) * 6 + ("zeros", "huge", "tiny", "nan", "inf", "empty")
MASK_KINDS = ("soft",) * 3 + ("zeros", "ones", "overshoot", "hair", "bool", "nan", "inf", "empty")


class Draw:
    """One case's random choices, and which inputs were drawn bad: `invalid` ones (empty, out of range, of
    the wrong type or shape) must be rejected; `suspects` (NaN, inf, values that may overflow) may be.
    An error must name one of these."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.suspects = set()
        self.invalid = set()
        self.overshooting = set()  # masks a little outside 0-1: the result must be that of the clamped mask
        self.notes = []

    def bad(self, *names, invalid=True):
        (self.invalid if invalid else self.suspects).update(names)

    def choice(self, options):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def side(self) -> int:
        return self.choice((1, 1, 2, 3, 5, 7, 8, 13))

    def _note(self, name, kind, tensor):
        self.notes.append(f"{name}={kind} {str(tensor.dtype)[6:]} {tuple(tensor.shape)}")
        if kind in ("nan", "inf", "empty"):
            self.bad(name, invalid=kind == "empty")
        return tensor

    def _empty(self, shape):
        shape = list(shape)
        shape[self.rng.randrange(len(shape))] = 0
        return shape

    def values(self, name, shape, dtype=None, huge_may_fail=False):
        """A float tensor; `huge_may_fail`: 6e4 may overflow what the function computes (name it then)."""
        dtype = dtype or self.choice(FLOATS)
        kind = self.choice(VALUE_KINDS)
        if kind == "empty":
            return self._note(name, kind, torch.zeros(self._empty(shape), dtype=dtype))
        x = torch.randn(shape, generator=self.generator, dtype=torch.float64)
        x = {"zeros": x * 0, "huge": x.sign() * 6e4, "tiny": x * 1e-30}.get(kind, x)
        if kind in ("nan", "inf"):
            x.view(-1)[self.rng.randrange(x.numel())] = math.nan if kind == "nan" else -math.inf
        if kind == "huge" and huge_may_fail:
            self.bad(name, invalid=False)
        return self._note(name, kind, x.to(dtype))

    def pixels(self, name, shape, dtype=None):
        """An image in 0-1, or one of the other value kinds."""
        if self.chance(0.5):
            dtype = dtype or self.choice(FLOATS)
            return self._note(name, "image", torch.rand(shape, generator=self.generator).to(dtype))
        return self.values(name, shape, dtype)

    def mask(self, name, shape):
        """A mask of a random float dtype or bool, 0-1 give or take what a resize does."""
        kind = self.choice(MASK_KINDS)
        dtype = torch.bool if kind == "bool" else self.choice(FLOATS)
        if kind == "empty":
            return self._note(name, kind, torch.zeros(self._empty(shape), dtype=dtype))
        soft = torch.rand(shape, generator=self.generator, dtype=torch.float64)
        x = {
            "zeros": soft * 0,
            "ones": soft * 0 + 1,
            "overshoot": soft * 1.09 - 0.04,  # a bicubic upscale's range
            "hair": torch.where(soft < 0.5, -1e-6, 1 + 1e-6),
            "bool": soft > 0.5,
        }.get(kind, soft)
        if kind in ("nan", "inf"):
            x.view(-1)[self.rng.randrange(x.numel())] = math.nan if kind == "nan" else math.inf
        if kind in ("overshoot", "hair"):
            self.overshooting.add(name)
        return self._note(name, kind, x.to(dtype))

    def number(self, name, good, bad=(), p_bad=0.15):
        """One of the `good` values (the range's ends among them) or, sometimes, a `bad` one."""
        if bad and self.chance(p_bad):
            self.bad(name)
            value = self.choice(bad)
        else:
            value = self.choice(good)
        self.notes.append(f"{name}={value!r}")
        return value

    def settings(self):
        """SoftInpaintSettings with each field at its minimum, maximum, default or in between."""
        values = {}
        for spec in core.PARAMETERS.values():
            values[spec.name] = self.choice((spec.minimum, spec.maximum, spec.default,
                                             self.rng.uniform(spec.minimum, spec.maximum)))
        self.notes.append(f"settings={values}")
        return core.SoftInpaintSettings(**values)


# What a result must be.

class Wrong(Exception):
    """A result that breaks the contract."""


def _require(condition, message: str) -> None:
    if not condition:
        raise Wrong(message)


def _tensor(result, shape, dtype, unit=False):
    _require(isinstance(result, torch.Tensor), f"returned {type(result).__name__}")
    _require(tuple(result.shape) == tuple(shape), f"shape {tuple(result.shape)}, expected {tuple(shape)}")
    _require(result.dtype == dtype, f"dtype {result.dtype}, expected {dtype}")
    _require(bool(torch.isfinite(result).all()), "result is not finite")
    if unit:
        _require(bool(((result >= 0) & (result <= 1)).all()), "mask result outside [0, 1]")


def _mask_dtype(mask):
    return mask.dtype if mask.is_floating_point() else torch.float32


def _latent_shape(d, ndim=None):
    ndim = ndim or d.choice((4, 4, 5))
    return (d.choice((1, 2, 3)), d.choice((4, 16)), *[d.side() for _ in range(ndim - 2)])


def _weight_shape(d, shape):
    return (d.choice((1, shape[0])), d.choice((1, shape[1])), *shape[2:])


SIGMAS = (0.0, 1e-6, 1e-3, 0.03, 1.0, 14.6, 80.0, 1e6)
BAD_SIGMAS = (-1.0, math.nan, math.inf)


def _sigma(d, batch):
    if d.chance(0.3):
        sigma = torch.tensor([d.choice(SIGMAS) for _ in range(d.choice((1, batch)))], dtype=d.choice(FLOATS))
        if d.chance(0.1):
            sigma[0] = d.choice(BAD_SIGMAS)
        if not bool(((sigma >= 0) & torch.isfinite(sigma)).all()):  # 1e6 is inf in float16
            d.bad("sigma")
        d.notes.append(f"sigma={sigma}")
        return sigma
    return d.number("sigma", SIGMAS, BAD_SIGMAS)


# One builder per public function: draw the arguments, return them and the check of the result.

def _latent_blend(d):
    shape = _latent_shape(d)
    a = d.values("a", shape, huge_may_fail=True)
    b = d.values("b", shape if not d.chance(0.05) else (*shape[:-1], shape[-1] + 1), huge_may_fail=True)
    if b.shape != a.shape:
        d.bad("b")
    t = d.mask("t", _weight_shape(d, shape))
    p = d.number("detail_preservation", (1.0, 32.0, 4.0, 0.5), (0.0, -1.0, math.nan, math.inf))
    dtype = torch.promote_types(a.dtype, b.dtype)
    return dict(a=a, b=b, t=t, detail_preservation=p), lambda r: _tensor(r, shape, dtype)


def _modified_nmask(d):
    nmask = d.mask("nmask", _latent_shape(d))
    power = d.number("mask_blend_power", (0.0, 8.0, 1.0), (-1.0, math.nan))
    scale = d.number("mask_blend_scale", (0.0, 8.0, 0.5), (-0.5, math.inf))
    args = dict(nmask=nmask, sigma=_sigma(d, nmask.shape[0]), mask_blend_power=power, mask_blend_scale=scale)
    return args, lambda r: _tensor(r, nmask.shape, _mask_dtype(nmask), unit=True)


def _blend_denoised(d):
    shape = _latent_shape(d)
    original = d.values("original", shape, huge_may_fail=True)
    denoised = d.values("denoised", shape, huge_may_fail=True)
    nmask = d.mask("nmask", _weight_shape(d, shape))
    dtype = torch.promote_types(original.dtype, denoised.dtype)
    args = dict(original=original, denoised=denoised, nmask=nmask, sigma=_sigma(d, shape[0]), settings=d.settings())
    return args, lambda r: _tensor(r, shape, dtype)


def _flow_to_sd_sigma(d):
    shape = d.choice(((), (1,), (3,), (3,), (0,)))
    sigma = torch.rand(shape, generator=d.generator, dtype=torch.float64)
    if not sigma.numel():
        d.bad("sigma")
    elif d.chance(0.15):
        sigma.view(-1)[-1] = d.choice((-0.1, 1.5, math.nan, math.inf))
        d.bad("sigma")
    else:
        sigma.view(-1)[0] = d.choice((0.0, 1.0, 0.5, 1 - 1e-7))
    sigma = sigma.to(d.choice(FLOATS))
    d.notes.append(f"sigma={sigma}")
    return dict(sigma=sigma), lambda r: _tensor(r, sigma.shape, sigma.dtype)


BLURS = (0.0, 0.5, 1.0, 4.0, 64.0, MAX_BLUR_SIGMA)
BAD_BLURS = (-1.0, math.nan, math.inf, MAX_BLUR_SIGMA * 2)


def _mask_2d_or_3d(d, name):
    shape = (d.side(), d.side()) if d.chance(0.3) else (d.choice((1, 2, 3)), d.side(), d.side())
    return d.mask(name, shape)


def _prepare_mask(d):
    mask = _mask_2d_or_3d(d, "mask")
    args = dict(mask=mask, blur_x=d.number("blur_x", BLURS, BAD_BLURS), blur_y=d.number("blur_y", BLURS, BAD_BLURS),
                rounding=d.choice((False, True)), invert=d.choice((False, True)))
    return args, lambda r: _tensor(r, mask.shape, _mask_dtype(mask), unit=True)


def _blur_mask(d):
    mask = _mask_2d_or_3d(d, "mask")
    args = dict(mask=mask, blur_x=d.number("blur_x", BLURS, BAD_BLURS), blur_y=d.number("blur_y", BLURS, BAD_BLURS))
    return args, lambda r: _tensor(r, mask.shape, _mask_dtype(mask), unit=True)


def _blur_kernel(d):
    sigma = d.number("sigma", BLURS[1:], (0.0, *BAD_BLURS))
    dtype = d.choice(FLOATS)

    def check(result):
        _tensor(result, (2 * int(2.5 * sigma + 0.5) + 1,), dtype)
        _require(abs(float(result.double().sum()) - 1) < 1e-2, "kernel does not sum to 1")
    return dict(sigma=sigma, dtype=dtype, device=d.choice((None, "cpu"))), check


SIZES = (1, 2, 3, 7, 13, 64)
BAD_SIZES = (0, -1, 2.5, None)


def _latent_mask(d):
    mask = d.mask("mask", (d.choice((1, 2, 3)), d.side(), d.side()))
    height, width = d.number("height", SIZES, BAD_SIZES), d.number("width", SIZES, BAD_SIZES)
    return dict(mask=mask, height=height, width=width), \
        lambda r: _tensor(r, (mask.shape[0], height, width), _mask_dtype(mask), unit=True)


def _conditioning_mask(d):
    mask = d.mask("mask", (d.choice((1, 2, 3)), d.side(), d.side()))
    height, width = d.number("height", SIZES, BAD_SIZES), d.number("width", SIZES, BAD_SIZES)
    return dict(mask=mask, height=height, width=width), \
        lambda r: _tensor(r, (mask.shape[0], 1, height, width), _mask_dtype(mask), unit=True)


def _image_shape(d, channels=(1, 3, 4)):
    return (d.choice((1, 2, 3)), d.side(), d.side(), d.choice(channels))


def _soft_masked_pixels(d):
    shape = _image_shape(d)
    pixels = d.pixels("pixels", shape)
    mask = d.mask("mask", (d.choice((1, shape[0])), *shape[1:3]))
    strength = d.number("strength", (0.0, 1.0, 0.5), (-0.1, 1.5, math.nan))
    return dict(pixels=pixels, mask=mask, strength=strength), lambda r: _tensor(r, shape, pixels.dtype)


def _mask_to_8bit(d):
    mask = _mask_2d_or_3d(d, "mask")

    def check(result):
        _require(isinstance(result, np.ndarray) and result.dtype == np.uint8, f"returned {type(result)}")
        _require(result.shape == tuple(mask.shape), f"shape {result.shape}")
    return dict(mask=mask), check


def _adaptive_latent_mask(d):
    shape = _latent_shape(d, ndim=d.choice((4, 4, 4, 5)))  # 5-D: video [B,C,T,h,w]
    orig = d.values("latent_orig", shape, huge_may_fail=True)
    processed = d.values("latent_processed", shape, huge_may_fail=True)
    nmask_shape = (d.choice((1, shape[0])), *((d.choice((1, shape[1])),) if d.chance(0.5) else ()), *shape[2:])
    nmask = d.mask("nmask", nmask_shape)
    args = dict(nmask=nmask, latent_orig=orig, latent_processed=processed, settings=d.settings())
    return args, lambda r: _tensor(r, (shape[0], *shape[2:]), torch.float32, unit=True)


def _pixel_composite_mask(d):
    mask = d.mask("latent_mask", (d.choice((1, 2, 3)), d.side(), d.side()))
    height, width = d.number("height", SIZES, BAD_SIZES), d.number("width", SIZES, BAD_SIZES)
    return dict(latent_mask=mask, height=height, width=width), \
        lambda r: _tensor(r, (mask.shape[0], height, width), torch.float32, unit=True)


def _composite(d):
    shape = _image_shape(d)
    original = d.pixels("original", (d.choice((1, shape[0])), *shape[1:]))
    inpainted = d.pixels("inpainted", (d.choice((1, shape[0])), *shape[1:]))
    mask = d.mask("pixel_mask", shape[1:3] if d.chance(0.2) else (d.choice((1, shape[0])), *shape[1:3]))
    batch = max(original.shape[0], inpainted.shape[0], mask.shape[0] if mask.ndim == 3 else 1)
    dtype = torch.promote_types(original.dtype, inpainted.dtype)
    return dict(original=original, inpainted=inpainted, pixel_mask=mask), \
        lambda r: _tensor(r, (batch, *shape[1:]), dtype)


PADDINGS = (0, 4, 32, 10_000)
BAD_PADDINGS = (-1, 2.5, None)
CROP_SIZES = (1, 8, 13, 512)


def _crop_boxes(d):
    masks = d.mask("masks", (d.choice((1, 2, 3)), d.side(), d.side()))
    padding = d.number("padding", PADDINGS, BAD_PADDINGS)
    width, height = d.number("width", CROP_SIZES, BAD_SIZES), d.number("height", CROP_SIZES, BAD_SIZES)

    def check(boxes):
        _require(isinstance(boxes, list) and len(boxes) == masks.shape[0], f"returned {boxes!r}")
        for box in boxes:
            _require(len(box) == 4 and all(isinstance(v, int) for v in box), f"box {box} is not 4 ints")
            x1, y1, x2, y2 = box
            _require(0 <= x1 < x2 <= masks.shape[2] and 0 <= y1 < y2 <= masks.shape[1], f"box {box} outside")
    return dict(masks=masks, padding=padding, width=width, height=height), check


def _boxes(d, batch, height, width):
    """Boxes inside a height x width picture, or (sometimes) bad ones."""
    boxes = []
    for _ in range(batch):
        x1, y1 = d.rng.randrange(width), d.rng.randrange(height)
        boxes.append((x1, y1, d.rng.randint(x1 + 1, width), d.rng.randint(y1 + 1, height)))
    if d.chance(0.15):
        d.bad("boxes")
        bad = d.choice(("empty box", "outside", "count"))
        boxes = {"empty box": [(0, 0, 0, 0)] * batch, "outside": [(-2, 0, width + 3, height)] * batch,
                 "count": boxes[:-1]}[bad]
    d.notes.append(f"boxes={boxes}")
    return boxes


def _crop(d):
    shape = _image_shape(d)
    images = d.pixels("images", shape)
    masks = d.mask("masks", shape[:3])
    boxes = _boxes(d, shape[0], *shape[1:3])
    width, height = d.number("width", CROP_SIZES, BAD_SIZES), d.number("height", CROP_SIZES, BAD_SIZES)

    def check(result):
        _require(isinstance(result, tuple) and len(result) == 2, f"returned {type(result).__name__}")
        _tensor(result[0], (shape[0], height, width, shape[3]), images.dtype)
        _tensor(result[1], (shape[0], height, width), masks.dtype if masks.is_floating_point() else torch.float32,
                unit=True)
    return dict(images=images, masks=masks, boxes=boxes, width=width, height=height), check


def _stitch(d):
    shape = _image_shape(d)
    originals = d.pixels("originals", shape)
    crop_size = (d.side(), d.side())
    crops = d.pixels("crops", (shape[0], *crop_size, shape[3]))
    boxes = _boxes(d, shape[0], *shape[1:3])
    args = dict(originals=originals, crops=crops, boxes=boxes)
    which = d.choice(("crop_masks", "full_masks", "crop_masks", "full_masks", "both", "neither"))
    if which in ("crop_masks", "both"):
        args["crop_masks"] = d.mask("crop_masks", (shape[0], *crop_size))
    if which in ("full_masks", "both"):
        args["full_masks"] = d.mask("full_masks", shape[:3])
    if which in ("both", "neither"):
        d.bad("crop_masks", "full_masks")
    return args, lambda r: _tensor(r, shape, originals.dtype)


def _uncrop(d):
    batch, height, width = d.choice((1, 2, 3)), d.side(), d.side()
    crops = d.pixels("crops", (batch, d.side(), d.side(), d.choice((1, 3, 4))))
    boxes = _boxes(d, batch, height, width)
    return dict(crops=crops, boxes=boxes, height=height, width=width), \
        lambda r: _tensor(r, (batch, height, width, crops.shape[-1]), crops.dtype)


def _fill_masked_pixels(d):
    shape = _image_shape(d, channels=(3, 3, 3, 1))
    if shape[3] != 3:
        d.bad("image")
    image = d.pixels("image", shape)
    mask = d.mask("mask", (d.choice((1, shape[0])), *shape[1:3]))
    return dict(image=image, mask=mask), lambda r: _tensor(r, shape, image.dtype)


def _fill_masked_latent(d):
    shape = _latent_shape(d)
    latent = d.values("latent", shape, huge_may_fail=True)
    mask = d.mask("latent_mask", (d.choice((1, shape[0])), 1, *shape[2:]))
    noise = d.values("noise", shape, huge_may_fail=True) if d.chance(0.5) else None
    return dict(latent=latent, latent_mask=mask, noise=noise), lambda r: _tensor(r, shape, latent.dtype)


def _weighted_histogram_filter(d):
    shape = (d.side(), d.side()) if d.chance(0.3) else (d.choice((1, 2, 3)), d.side(), d.side())
    img = d.values("img", shape, huge_may_fail=False)
    radius = d.choice((0, 1, 2))
    kernel, center = core.gaussian_kernel(d.choice((0.5, 1.5, 10.0)), radius)
    if d.chance(0.2):
        kernel = kernel.to(d.choice(FLOATS))
    if d.chance(0.1):
        kernel = kernel * 0  # no weight anywhere: nothing to average
        d.bad("kernel", invalid=False)
    if d.chance(0.1):
        center = d.choice((-1, 2 * radius + 1, (0, 2 * radius + 5)))
        d.bad("kernel_center")
    low = d.choice((0.0, 0.25, 0.5, 0.9, 1.0))
    high = d.choice([v for v in (0.0, 0.5, 0.75, 1.0) if v >= low] or [1.0])
    if d.chance(0.1):
        low, high = d.choice(((0.6, 0.4), (-0.1, 0.5), (0.5, 1.1), (math.nan, 1.0)))
        d.bad("percentile_min", "percentile_max")
    min_width = d.number("min_width", (1.0, 0.5, 100.0, 1e-9), (0.0, -1.0, math.nan, math.inf))
    d.notes.append(f"kernel {tuple(kernel.shape)} centre {center}, band {low}-{high}")
    args = dict(img=img, kernel=kernel, kernel_center=center, percentile_min=low, percentile_max=high,
                min_width=min_width)
    return args, lambda r: _tensor(r, shape, img.dtype)


def _gaussian_kernel(d):
    stddev = d.number("stddev_radius", (1e-3, 0.5, 1.0, 1.5, 1e3), (0.0, -1.0, math.nan, math.inf))
    radius = d.number("max_radius", (0, 1, 2, 7, 16), (-1, 2.5, math.nan, 17))

    def check(result):
        kernel, center = result
        _tensor(kernel, (2 * radius + 1, 2 * radius + 1), torch.float64)
        _require(center == radius and float(kernel[center, center]) == 1.0, "centre is not 1")
    return dict(stddev_radius=stddev, max_radius=radius), check


def _soft_inpaint_settings(d):
    values = {}
    for spec in core.PARAMETERS.values():
        good = (spec.minimum, spec.maximum, spec.default, int(spec.maximum), np.float32(spec.minimum))
        bad = (spec.minimum - 1e-9, spec.maximum + 1e-9, math.nan, math.inf, "1", None, True)
        values[spec.name] = d.number(spec.name, good, bad, p_bad=0.05)

    def check(settings):
        for field in fields(settings):
            value = getattr(settings, field.name)
            _require(type(value) is float and value == float(values[field.name]), f"{field.name} = {value!r}")
    return values, check


def _smootherstep(d):
    x = d.values("x", d.choice(((d.side(),), (2, d.side(), d.side()))))
    return dict(x=x), lambda r: _tensor(r, x.shape, x.dtype)


BUILDERS = {
    "latent_blend": _latent_blend,
    "modified_nmask": _modified_nmask,
    "blend_denoised": _blend_denoised,
    "flow_to_sd_sigma": _flow_to_sd_sigma,
    "prepare_mask": _prepare_mask,
    "blur_mask": _blur_mask,
    "blur_kernel": _blur_kernel,
    "latent_mask": _latent_mask,
    "conditioning_mask": _conditioning_mask,
    "soft_masked_pixels": _soft_masked_pixels,
    "mask_to_8bit": _mask_to_8bit,
    "adaptive_latent_mask": _adaptive_latent_mask,
    "pixel_composite_mask": _pixel_composite_mask,
    "composite": _composite,
    "crop_boxes": _crop_boxes,
    "crop": _crop,
    "stitch": _stitch,
    "uncrop": _uncrop,
    "fill_masked_pixels": _fill_masked_pixels,
    "fill_masked_latent": _fill_masked_latent,
    "weighted_histogram_filter": _weighted_histogram_filter,
    "gaussian_kernel": _gaussian_kernel,
    "SoftInpaintSettings": _soft_inpaint_settings,
    "smootherstep": _smootherstep,
}

# Functions of files owned elsewhere that fail the fuzzing today, with the inputs that fail (strict xfail:
# a fix makes the test pass, which fails it until its entry here goes).
KNOWN_FAILURES = {
}


def _names(message: str, name: str) -> bool:
    """Whether an error message names the input: quoted when the name is a single letter or two."""
    pattern = rf"'{re.escape(name)}'" if len(name) <= 2 else rf"(?<![\w]){re.escape(name)}(?![\w])"
    return re.search(pattern, message) is not None


def _same(before, after) -> bool:
    if before.dtype != after.dtype or before.shape != after.shape:
        return False
    return bool(((before == after) | (before.isnan() & after.isnan()) if before.is_floating_point()
                 else before == after).all())


def _equal(x, y) -> bool:
    """Exactly equal results: tensors, numpy arrays, and tuples or lists of them or of numbers."""
    if isinstance(x, (tuple, list)):
        return type(x) is type(y) and len(x) == len(y) and all(_equal(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, np.ndarray):
        return isinstance(y, np.ndarray) and np.array_equal(x, y)
    if isinstance(x, torch.Tensor):
        return isinstance(y, torch.Tensor) and _same(x, y)
    return x == y


def _clamping_changes(function, args, result, names) -> str | None:
    """Whether the result differs from that of the same masks clamped to [0, 1] first."""
    clamped = {**args, **{name: args[name].clamp(0, 1) for name in names}}
    try:
        same = _equal(result, getattr(core, function)(**clamped))
    except Exception as error:  # the clamped masks are valid: any error is a failure
        return f"{type(error).__name__} once {sorted(names)} are clamped: {error}"
    return None if same else f"the result changes once {sorted(names)} are clamped to [0, 1]"


def _run_case(function, seed):
    """One case; returns a failure description, or None."""
    d = Draw(seed)
    args, check = BUILDERS[function](d)
    before = {name: value.clone() for name, value in args.items() if isinstance(value, torch.Tensor)}
    label = f"case {seed} ({'; '.join(d.notes)})"
    try:
        result = getattr(core, function)(**args)
    except (ValueError, TypeError) as error:
        named = d.suspects | d.invalid
        if not any(_names(str(error), name) for name in named):
            return f"{label}: {type(error).__name__} naming none of {sorted(named)}: {error}"
    except Exception as error:  # any other exception is a failure to report
        return f"{label}: {type(error).__name__}: {error}"
    else:
        if d.invalid:
            return f"{label}: accepted the invalid {sorted(d.invalid)}"
        try:
            check(result)
        except Wrong as error:
            return f"{label}: {error}"
        if d.overshooting and (change := _clamping_changes(function, args, result, d.overshooting)):
            return f"{label}: {change}"
    changed = [name for name, copy in before.items() if not _same(copy, args[name])]
    return f"{label}: modified {changed} in place" if changed else None


def _marks(function):
    if function in KNOWN_FAILURES:
        return [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[function])]
    return []


@pytest.fixture(scope="module", autouse=True)
def _report_count(request):
    """Print how many cases ran, past pytest's output capture (the lead quotes the count)."""
    yield
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\ncore fuzzing: {sum(CASE_COUNTS.values())} cases over {len(CASE_COUNTS)} functions")


@pytest.mark.parametrize("function", [pytest.param(f, marks=_marks(f)) for f in BUILDERS])
def test_fuzz(function):
    start = zlib.crc32(function.encode())
    seeds = range(start, start + CASES_PER_FUNCTION)
    failures = [failure for seed in seeds if (failure := _run_case(function, seed))]
    CASE_COUNTS[function] = len(seeds)
    assert not failures, f"{len(failures)} of {len(seeds)} cases failed:\n" + "\n".join(failures[:8])


def test_every_public_function_is_fuzzed():
    public = {name for name in core.__all__ if callable(getattr(core, name))} - {"ParameterSpec"}
    assert public == set(BUILDERS)
