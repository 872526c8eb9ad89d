"""Seeded fuzzing of every public function of core, judged against independent formulas.

Each case draws every argument the way tests/fuzzing.py describes: tensors of every float dtype and of
wrong ones, in every layout (transposed, channels-last, strided, expanded, requiring grad), with shapes
from 1x1 up and values from subnormal to the dtype's largest, NaN and inf; numbers from 1e-320 to 10**400,
NaN, inf and of the wrong type; sizes at and past core's bound (MAX_SIZE). Every outcome is classified:

- right: the result agrees with an independent formula (tests/fuzz_references.py: each function
  re-derived from its documented definition, per pixel, in float64 or mpmath), or where there is none
  with the invariants (shape, dtype, finite, in 0-1, what stays exactly as it was); and it is the same for
  the same values in a contiguous layout, and for masks a little outside 0-1 the same as for them clamped;
- clear error: a ValueError or TypeError whose message names an input that was drawn bad;
- unclear error: any other exception, or one that names no input drawn bad;
- silent: a wrong or non-finite result, an input modified in place, or a bad input accepted.

The test fails on any unclear error or silent result. CI runs CASES_PER_FUNCTION cases per function
(10 200 in all, under a minute on two cores); the environment variable SOFT_INPAINT_FUZZ_CASES sets how
many (1000: 34 000 cases, some 5 minutes), and SOFT_INPAINT_FUZZ_SEED=n draws other cases than CI's. The
counts by class are printed at the end of the module.
"""

import math
import os
import zlib
from dataclasses import fields, is_dataclass

import fuzz_references as ref
import numpy as np
import pytest
import reference_crop as a1111
import torch
from fuzzing import FLOATS, NOT_NUMBERS, SILENT, UNCLEAR, Draw, Wrong, classify, print_counts, require
from PIL import Image

import core
from core.histogram_filter import MAX_KERNEL_RADIUS
from core.mask_prep import MAX_BLUR_SIGMA
from core.tensor_checks import MAX_SIZE

CASES_PER_FUNCTION = int(os.environ.get("SOFT_INPAINT_FUZZ_CASES", 300))
FIRST_SEED = int(os.environ.get("SOFT_INPAINT_FUZZ_SEED", 0))
COUNTS = {}  # function -> outcome -> cases
SAMPLED_PIXELS = 3  # pixels per case compared with the per-pixel formulas


# --- what a result must be -----------------------------------------------------------------------------


def _tensor(result, shape, dtype, unit=False):
    require(isinstance(result, torch.Tensor), f"returned {type(result).__name__}")
    require(tuple(result.shape) == tuple(shape), f"shape {tuple(result.shape)}, expected {tuple(shape)}")
    require(result.dtype == dtype, f"dtype {result.dtype}, expected {dtype}")
    require(bool(torch.isfinite(result).all()), "result is not finite")
    if unit:
        require(bool(((result >= 0) & (result <= 1)).all()), "mask result outside [0, 1]")


def _close(got, want, atol, rtol=0.0, what="result"):
    """got within atol + rtol * |want| of want (arrays or numbers, float64)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    error = np.abs(got - want)
    allowed = atol + rtol * np.abs(want)
    worst = np.unravel_index(np.argmax(error - allowed), error.shape) if error.ndim else ()
    require(bool((error <= allowed).all()),
             f"{what} {got[worst]!r} differs from the formula's {want[worst]!r} by {error[worst]:.3g}"
             f" (allowed {np.broadcast_to(allowed, error.shape)[worst]:.3g}) at {worst}")


def _f64(x) -> np.ndarray:
    return x.detach().to(torch.float64).numpy()


def _eps(dtype) -> float:
    return torch.finfo(dtype if dtype.is_floating_point else torch.float32).eps


def _tiny(dtype) -> float:
    return torch.finfo(dtype if dtype.is_floating_point else torch.float32).tiny


def _work(dtype) -> torch.dtype:
    return torch.promote_types(dtype, torch.float32)


def _mask_dtype(mask):
    return mask.dtype if mask.is_floating_point() else torch.float32


def _unit(x, dtype=None) -> np.ndarray:
    """A mask as a function sees it: in its working type (or `dtype`), clamped to 0-1, as float64."""
    return _f64(x.detach().to(dtype or _work(x.dtype)).clamp(0, 1))


def _tensors(*values) -> bool:
    return all(isinstance(v, torch.Tensor) and v.numel() and v.dtype in (*FLOATS, torch.bool) for v in values)


def _pixels(d, shape, count=SAMPLED_PIXELS):
    """A few random index tuples into `shape`."""
    return [tuple(d.rng.randrange(n) for n in shape) for _ in range(count)]


# --- drawing arguments ---------------------------------------------------------------------------------


def _latent_shape(d, ndim=None):
    ndim = ndim or d.choice((4, 4, 5))
    return (d.choice((1, 2, 3)), d.choice((1, 4, 16)), *[d.side() for _ in range(ndim - 2)])


def _weight_shape(d, shape):
    return (d.choice((1, shape[0])), d.choice((1, shape[1])), *shape[2:])


def _settings(d, name="settings"):
    """SoftInpaintSettings with each field at an end, the default, in between or a hair inside an end;
    sometimes no settings at all."""
    if d.chance(0.04):
        d.bad(name)
        wrong = d.choice((None, {"schedule_bias": 1.0}, "settings"))
        d.note(f"{name}={wrong!r}")
        return wrong
    values = {}
    for spec in core.PARAMETERS.values():
        values[spec.name] = d.choice((spec.minimum, spec.maximum, spec.default, d.rng.uniform(spec.minimum,
                                      spec.maximum), spec.minimum + 1e-200 if spec.minimum == 0 else spec.minimum))
    d.note(f"{name}={values}")
    return core.SoftInpaintSettings(**values)


SIGMAS = (0.0, 1e-300, 1e-6, 1e-3, 0.03, 1.0, 14.6, 80.0, 1e6, 1e300, np.float32(2.5), 3)
BAD_SIGMAS = (-1.0, -1e-300, math.nan, math.inf, 10**400, *NOT_NUMBERS)


def _sigma(d, batch):
    """A number, or one per sample (or one) as a tensor of any dtype and layout."""
    if d.chance(0.3):
        values = [float(d.choice(SIGMAS)) for _ in range(d.choice((1, max(batch, 1))))]  # an empty batch: one
        sigma = torch.tensor(values, dtype=torch.float64)
        if d.chance(0.1):
            sigma[0] = d.choice((-1.0, math.nan, math.inf))
        sigma = sigma.to(d.choice(FLOATS))
        if d.chance(0.5):
            sigma = sigma[None, :].expand(2, -1)[1]  # a strided view
        if not bool(((sigma >= 0) & torch.isfinite(sigma)).all()):  # 1e6 is inf in float16
            d.bad("sigma")
        d.note(f"sigma={sigma}")
        return sigma
    return d.number("sigma", SIGMAS, BAD_SIGMAS)


def _sigma_of(sigma, sample):
    """The sigma of one batch sample, as the function reads it (in float64, from its dtype)."""
    if isinstance(sigma, torch.Tensor):
        return float(sigma.double()[sample if sigma.numel() > 1 else 0])
    return float(sigma)


PS = (1.0, 32.0, 4.0, 0.5, 1e-200, 1e-12, 1e-30, 1e300, np.float32(2.0), 7)
BAD_PS = (0.0, -1.0, math.nan, math.inf, -math.inf, 10**400, *NOT_NUMBERS)


# --- the per-step blend ----------------------------------------------------------------------------------


def _blended(a, b, t, p, work, out):
    """The formula's blend of one latent pixel (channel vectors a, b, t) and what the work type's rounding
    allows it: the linear blend and its length rounded, the rescale and the result rounded."""
    want, scale, spread = ref.latent_blend_pixel(a, b, t, p)
    want = np.array(want)
    eps_w, eps_o = _eps(work), _eps(out)
    # The rescale is taken in logs (float64): its rounding grows with the logs of the lengths.
    logs = max((abs(math.log(x)) for x in (*np.abs(a), *np.abs(b)) if x > 0), default=0) + 2
    relative = 8 * (eps_w * (1 + spread) + eps_o) + 8 * _eps(torch.float64) * logs
    tolerance = 8 * eps_w * (np.abs(a) + np.abs(b)) * scale + relative * np.abs(want)
    return want, np.nan_to_num(tolerance, nan=0.0) + 4 * _tiny(out)


def _t_as_blended(t, work):
    """t as latent_blend blends by it: checked in its working type, then in the blend's work type."""
    return _f64(t.detach().to(_work(t.dtype)).clamp(0, 1).to(work))


def _latent_blend(d):
    shape = _latent_shape(d)
    a = d.values("a", shape, huge_may_fail=True)
    b = d.values("b", shape if not d.chance(0.05) else (*shape[:-1], shape[-1] + 1), huge_may_fail=True)
    if _tensors(a, b) and b.shape != a.shape:
        d.bad("b")
    t = d.mask("t", _weight_shape(d, shape))
    p = d.number("detail_preservation", PS, BAD_PS)

    def check(result):
        out = torch.promote_types(a.dtype, b.dtype)
        _tensor(result, shape, out)
        work = _work(out)
        weights = np.broadcast_to(_t_as_blended(t, work), shape)
        got, a_, b_ = _f64(result), _f64(a), _f64(b)
        for sample, *index in _pixels(d, (shape[0], *shape[2:])):
            pixel = (sample, slice(None), *index)
            want, tolerance = _blended(a_[pixel], b_[pixel], weights[pixel], p, work, out)
            _close(got[pixel], want, tolerance, what=f"pixel {(sample, *index)}")
    return dict(a=a, b=b, t=t, detail_preservation=p), check


def _modified_nmask(d):
    nmask = d.mask("nmask", _latent_shape(d))
    power = d.number("mask_blend_power", (0.0, 8.0, 1.0, 1e-200, 1e3, 3), (-1.0, math.nan, math.inf, 10**400, None))
    scale = d.number("mask_blend_scale", (0.0, 8.0, 0.5, 1e-300, 1e300), (-0.5, math.inf, "0.5", [1.0]))
    sigma = _sigma(d, nmask.shape[0] if _tensors(nmask) else 1)

    def check(result):
        _tensor(result, nmask.shape, _mask_dtype(nmask), unit=True)
        mask, got = _unit(nmask, torch.float64), _f64(result)
        for index in _pixels(d, nmask.shape):
            want = ref.scheduled_weight(mask[index], _sigma_of(sigma, index[0]), power, scale)
            error_scale = min(1e3, abs(math.log(want))) if want > 0 else 0
            _close(got[index], want, 4 * _tiny(result.dtype), 4 * _eps(result.dtype) + 4e-16 * error_scale,
                   what=f"weight at {index}")
    return dict(nmask=nmask, sigma=sigma, mask_blend_power=power, mask_blend_scale=scale), check


def _blend_denoised(d):
    shape = _latent_shape(d)
    original = d.values("original", shape, huge_may_fail=True)
    denoised = d.values("denoised", shape, huge_may_fail=True)
    nmask = d.mask("nmask", _weight_shape(d, shape) if not d.chance(0.03) else (shape[0] + 1, *shape[1:]))
    if _tensors(nmask) and nmask.shape[0] not in (1, shape[0]):
        d.bad("nmask")
    sigma, settings = _sigma(d, shape[0]), _settings(d)

    def check(result):
        out = torch.promote_types(original.dtype, denoised.dtype)
        _tensor(result, shape, out)
        work, got = _work(out), _f64(result)
        mask = np.broadcast_to(_unit(nmask, torch.float64), shape)
        o, n = _f64(original), _f64(denoised)
        for sample, *index in _pixels(d, (shape[0], *shape[2:])):
            pixel = (sample, slice(None), *index)
            sigma_ = _sigma_of(sigma, sample)
            weights = np.array([ref.scheduled_weight(m, sigma_, settings.schedule_bias, settings.preservation_strength)
                                for m in mask[pixel]])
            t = _f64(torch.from_numpy(weights).to(work))
            want, tolerance = _blended(o[pixel], n[pixel], t, settings.transition_contrast_boost, work, out)
            # Where the weight is 0 or 1 the original or the denoised latent comes back exactly (a weight
            # within rounding of 0 or 1 may go either way).
            exact = np.where(weights <= 1e-300, o[pixel], np.where(weights >= 1 - 1e-15, n[pixel], np.nan))
            exact = _f64(torch.from_numpy(exact).to(out))
            blended = np.abs(got[pixel] - want) <= tolerance
            require(((got[pixel] == exact) | blended).all(),
                     f"pixel {(sample, *index)}: {got[pixel]} is neither the blend {want} nor exactly {exact}")
    return dict(original=original, denoised=denoised, nmask=nmask, sigma=sigma, settings=settings), check


def _flow_to_sd_sigma(d):
    shape = d.choice(((), (1,), (3,), (3,), (0,)))
    sigma = torch.rand(shape, generator=d.generator, dtype=torch.float64)
    if sigma.numel():
        sigma.view(-1)[0] = d.choice((0.0, 1.0, 0.5, 1 - 1e-7, 1e-300, -1e-300, 0.3))
        if d.chance(0.15):
            sigma.view(-1)[-1] = d.choice((-0.1, 1.5, math.nan, math.inf, -1e-6))
    dtype = d.choice(FLOATS) if d.chance(0.95) else torch.int64
    sigma = sigma.to(dtype)
    if dtype != torch.int64 and sigma.numel() and d.chance(0.1):  # a rounding step above 1 is 1
        sigma.view(-1)[0] = torch.nextafter(torch.ones((), dtype=dtype), torch.full((), 2.0, dtype=dtype))
    slack = 4 * _eps(dtype)  # as documented: a few rounding steps outside 0-1 are clamped
    values = sigma.double()
    if dtype == torch.int64 or not values.numel() or not bool(((values >= -slack) & (values <= 1 + slack)).all()):
        d.bad("sigma")
    d.note(f"sigma={sigma!r}")

    def check(result):
        _tensor(result, sigma.shape, sigma.dtype)
        largest = torch.finfo(sigma.dtype).max
        want = [ref.flow_to_sd_sigma(s, largest) for s in sigma.double().reshape(-1).tolist()]
        _close(result.double().reshape(-1), want, 0, 4 * _eps(sigma.dtype))
    return dict(sigma=sigma), check


# --- mask preparation ------------------------------------------------------------------------------------


BLURS = (0.0, 1e-320, 1e-200, 0.5, 1.0, 4.0, 64.0, MAX_BLUR_SIGMA, np.float32(2.5), 3)
BAD_BLURS = (-1.0, -1e-300, math.nan, math.inf, MAX_BLUR_SIGMA * (1 + 1e-9), 10**400, *NOT_NUMBERS)


def _mask_2d_or_3d(d, name):
    shape = (d.side(), d.side()) if d.chance(0.3) else (d.choice((1, 2, 3)), d.side(), d.side())
    return d.mask(name, shape)


def _prepared(mask, blur_x, blur_y, rounding=False, invert=False):
    def check(result):
        _tensor(result, mask.shape, _mask_dtype(mask), unit=True)
        want = ref.prepare_mask(_f64(mask), float(blur_x), float(blur_y), rounding, invert)
        # A convolution sums its taps in the work type: its rounding grows with the kernel's length.
        taps = sum(len(ref.blur_kernel(float(sigma))) for sigma in (blur_x, blur_y) if sigma > 0)
        _close(_f64(result), want, (8 + taps / 16) * _eps(_work(mask.dtype)) + 2 * _eps(result.dtype))
    return check


def _prepare_mask(d):
    mask = _mask_2d_or_3d(d, "mask")
    args = dict(mask=mask, blur_x=d.number("blur_x", BLURS, BAD_BLURS), blur_y=d.number("blur_y", BLURS, BAD_BLURS),
                rounding=d.choice((False, True)), invert=d.choice((False, True)))
    return args, _prepared(**args)


def _blur_mask(d):
    mask = _mask_2d_or_3d(d, "mask")
    args = dict(mask=mask, blur_x=d.number("blur_x", BLURS, BAD_BLURS), blur_y=d.number("blur_y", BLURS, BAD_BLURS))
    return args, _prepared(**args)


def _blur_kernel(d):
    sigma = d.number("sigma", BLURS[1:], (0.0, *BAD_BLURS))
    dtype = d.number("dtype", FLOATS, (torch.int64, torch.bool, "float32", None), p_bad=0.05)
    device = d.number("device", (None, "cpu", torch.device("cpu")), ("nodevice", 3.5, "cuda:x"), p_bad=0.05)

    def check(result):
        want = ref.blur_kernel(float(sigma))
        _tensor(result, want.shape, dtype)
        _close(_f64(result), want, 2 * _tiny(dtype), 8 * _eps(dtype))
    return dict(sigma=sigma, dtype=dtype, device=device), check


# --- 8-bit masks ------------------------------------------------------------------------------------------


def _sized_mask(d, function, name="mask"):
    mask = d.mask(name, (d.choice((1, 2, 3)), d.side(), d.side()) if not d.chance(0.03) else (d.side(), d.side()))
    if _tensors(mask) and mask.ndim != 3:
        d.bad(name)
    height, width = d.sizes(("height", "width"))

    def check(result):
        size = (mask.shape[0], *((1,) if function is ref.conditioning_mask else ()), height, width)
        _tensor(result, size, torch.float32 if function is ref.pixel_composite_mask else _mask_dtype(mask), unit=True)
        got = _f64(result).reshape(mask.shape[0], height, width)
        for sample in range(mask.shape[0]):
            # 8-bit levels may round a tie the other way; a resize spreads that over at most two levels.
            _close(got[sample], function(_unit(mask[sample], torch.float64), height, width), 2.01 / 255)
    return {name: mask, "height": height, "width": width}, check


def _latent_mask(d):
    return _sized_mask(d, ref.latent_mask)


def _conditioning_mask(d):
    return _sized_mask(d, ref.conditioning_mask)


def _pixel_composite_mask(d):
    return _sized_mask(d, ref.pixel_composite_mask, "latent_mask")


def _image_shape(d, channels=(1, 3, 4)):
    return (d.choice((1, 2, 3)), d.side(), d.side(), d.choice(channels))


def _soft_masked_pixels(d):
    shape = _image_shape(d)
    pixels = d.pixels("pixels", shape)
    mask = d.mask("mask", (d.choice((1, shape[0])), *shape[1:3]))
    strength = d.number("strength", (0.0, 1.0, 0.5, 1e-200, np.float32(0.3)), (-0.1, 1.5, math.nan, *NOT_NUMBERS))

    def check(result):
        _tensor(result, shape, pixels.dtype)
        centred = _f64(pixels) - 0.5
        level = ref.levels(_unit(mask, torch.float64))[..., None] / 255
        want = 0.5 + centred * (1 - float(strength) * level)
        eps_w = _eps(_work(pixels.dtype))
        atol = np.abs(centred) * float(strength) * 1.01 / 255 + 8 * eps_w * (np.abs(centred) + 1) + 4 * _tiny(
            pixels.dtype)
        _close(_f64(result), want, atol, 2 * _eps(pixels.dtype))
    return dict(pixels=pixels, mask=mask, strength=strength), check


def _mask_to_8bit(d):
    mask = _mask_2d_or_3d(d, "mask") if not d.chance(0.03) else d.mask("mask", (d.side(),))
    if _tensors(mask) and mask.ndim < 2:
        d.bad("mask")

    def check(result):
        require(isinstance(result, np.ndarray) and result.dtype == np.uint8, f"returned {type(result)}")
        require(result.shape == tuple(mask.shape), f"shape {result.shape}")
        unit = _unit(mask, torch.float64)
        tie = np.abs((unit * 255) % 1 - 0.5) < 1e-3  # float32's product may round a tie the other way
        _close(np.where(tie, ref.levels(unit), result), ref.levels(unit), 0)
        _close(result, ref.levels(unit), 1)
    return dict(mask=mask), check


# --- the composite --------------------------------------------------------------------------------------


def _adaptive_latent_mask(d):
    shape = _latent_shape(d, ndim=d.choice((4, 4, 4, 5)))  # 5-D: video [B,C,T,h,w]
    orig = d.values("latent_orig", (d.choice((1, shape[0])), *shape[1:]), huge_may_fail=True)
    processed = d.values("latent_processed", shape, huge_may_fail=True)
    nmask_shape = (d.choice((1, shape[0])), *((d.choice((1, shape[1])),) if d.chance(0.5) else ()), *shape[2:])
    nmask = d.mask("nmask", nmask_shape)
    settings = _settings(d)

    def check(result):
        _tensor(result, (shape[0], *shape[2:]), torch.float32, unit=True)
        sample, frame = d.rng.randrange(shape[0]), d.rng.randrange(shape[2]) if len(shape) == 5 else None
        pick = (lambda x: x[min(sample, x.shape[0] - 1)]) if frame is None else \
            (lambda x: x[min(sample, x.shape[0] - 1), :, frame])
        mask = _unit(nmask[:, 0] if nmask.ndim == len(shape) else nmask)
        mask = mask[min(sample, mask.shape[0] - 1)] if frame is None else mask[min(sample, mask.shape[0] - 1), frame]
        distance, largest = ref.filtered_distance(pick(_f64(orig)), pick(_f64(processed)))
        threshold = ref.threshold(mask, settings)
        # float32's rounding of the distance, bounded; the mask rises with the distance.
        slack = 4e-6 * (distance + largest)
        low = ref.adaptive_mask(np.maximum(distance - slack, 0), threshold, settings.difference_contrast)
        high = ref.adaptive_mask(distance + slack, threshold, settings.difference_contrast)
        got = _f64(result[sample] if frame is None else result[sample, frame])
        require(bool(((got >= low - 1e-6) & (got <= high + 1e-6)).all()),
                 f"frame ({sample}, {frame}): {got.tolist()} is not within the formula's {low.tolist()} to "
                 f"{high.tolist()}")
    return dict(nmask=nmask, latent_orig=orig, latent_processed=processed, settings=settings), check


def _composite(d):
    shape = _image_shape(d)
    original = d.pixels("original", (d.choice((1, shape[0])), *shape[1:]))
    inpainted = d.pixels("inpainted", (d.choice((1, shape[0])), *shape[1:]) if not d.chance(0.03) else shape[1:])
    if _tensors(inpainted) and inpainted.ndim != 4:
        d.bad("inpainted")
    mask = d.mask("pixel_mask", shape[1:3] if d.chance(0.2) else (d.choice((1, shape[0])), *shape[1:3]))

    def check(result):
        batch = max(original.shape[0], inpainted.shape[0], mask.shape[0] if mask.ndim == 3 else 1)
        out = torch.promote_types(original.dtype, inpainted.dtype)
        _tensor(result, (batch, *shape[1:]), out)
        m = _unit(mask if mask.ndim == 3 else mask[None])[..., None]
        o, i = np.broadcast_arrays(_f64(original), _f64(inpainted))
        want = np.where(m == 0, o, np.where(m == 1, i, o + m * (i - o)))
        atol = 4 * _eps(_work(out)) * (np.abs(o) + np.abs(i)) + 2 * _eps(out) * np.abs(want) + 4 * _tiny(out)
        _close(_f64(result), np.broadcast_to(want, result.shape), np.where((m == 0) | (m == 1), 0, atol))
    return dict(original=original, inpainted=inpainted, pixel_mask=mask), check


# --- only masked ----------------------------------------------------------------------------------------


PADDINGS = (0, 4, 32, 10_000, MAX_SIZE, np.int64(3))


def _crop_boxes(d):
    masks = d.mask("masks", (d.choice((1, 2, 3)), d.side(), d.side()))
    padding = d.number("padding", PADDINGS, (-1, 2.5, None, MAX_SIZE + 1, 10**400, "4"))
    width, height = d.sizes(("width", "height"), (1, 8, 13, 512))

    def check(boxes):
        require(isinstance(boxes, list) and len(boxes) == masks.shape[0], f"returned {boxes!r}")
        for box, mask in zip(boxes, masks, strict=True):
            levels = ref.levels(_unit(mask, torch.float64))
            image_height, image_width = levels.shape
            region = a1111.get_crop_region_v2(Image.fromarray(levels), padding) or (0, 0, image_width, image_height)
            want = a1111.expand_crop_region(region, width, height, image_width, image_height)
            require(box == want and all(type(v) is int for v in box), f"box {box!r}, A1111's {want}")
    return dict(masks=masks, padding=padding, width=width, height=height), check


def _boxes(d, batch, height, width, crop_size=None):
    """Boxes inside a height x width picture (sometimes of the crop's size), or (sometimes) bad ones."""
    boxes = []
    for _ in range(batch):
        if crop_size and crop_size[0] <= height and crop_size[1] <= width and d.chance(0.3):
            y1, x1 = d.rng.randint(0, height - crop_size[0]), d.rng.randint(0, width - crop_size[1])
            boxes.append((x1, y1, x1 + crop_size[1], y1 + crop_size[0]))
            continue
        x1, y1 = d.rng.randrange(width), d.rng.randrange(height)
        boxes.append((x1, y1, d.rng.randint(x1 + 1, width), d.rng.randint(y1 + 1, height)))
    if d.chance(0.15):
        d.bad("boxes")
        bad = d.choice(("empty box", "outside", "count", "floats", "three", "none", "text"))
        boxes = {"empty box": [(0, 0, 0, 0)] * batch, "outside": [(-2, 0, width + 3, height)] * batch,
                 "count": boxes[:-1], "floats": [(0.5, 0, 1, 1)] * batch, "three": [(0, 0, 1)] * batch,
                 "none": None, "text": "boxes"}[bad]
    elif d.chance(0.2):
        boxes = d.choice((np.array(boxes), [list(box) for box in boxes], tuple(boxes)))
    d.note(f"boxes={boxes!r}")
    return boxes


def _as_tuples(boxes):
    return [tuple(int(v) for v in box) for box in boxes]


def _resampled_alike(got, source, box_size, dtype, what):
    """Where a box is as large as its source, Lanczos at scale 1 gives the source back; a source of one
    colour gives that colour everywhere (up to float32's and the result dtype's rounding)."""
    tolerance = 2 * _eps(dtype)
    if source.shape[:2] == box_size:
        _close(got, source, 1e-6 + tolerance, what=f"{what} (no resampling)")
    flat = source.reshape(-1, source.shape[-1])
    if (flat == flat[:1]).all():
        _close(got, np.broadcast_to(flat[0], got.shape), 1e-5 + tolerance, what=f"{what} (one colour)")


def _crop(d):
    shape = _image_shape(d)
    size = (d.side(), d.side()) if d.chance(0.7) else None
    images = d.pixels("images", shape)
    masks = d.mask("masks", shape[:3])
    boxes = _boxes(d, shape[0], *shape[1:3], crop_size=size)
    if size:
        width, height = d.size("width", (size[1],)), d.size("height", (size[0],))
    else:
        width, height = d.sizes(("width", "height"), (1, 8, 13, 512))

    def check(result):
        require(isinstance(result, tuple) and len(result) == 2, f"returned {type(result).__name__}")
        crops, crop_masks = result
        _tensor(crops, (shape[0], height, width, shape[3]), images.dtype, unit=True)
        _tensor(crop_masks, (shape[0], height, width), _mask_dtype(masks), unit=True)
        for i, (x1, y1, x2, y2) in enumerate(_as_tuples(boxes)):
            _resampled_alike(_f64(crops[i]), _unit(images[i], torch.float32)[y1:y2, x1:x2], (height, width),
                             crops.dtype, "crop")
            _resampled_alike(_f64(crop_masks[i])[..., None], _unit(masks[i])[y1:y2, x1:x2, None], (height, width),
                             crop_masks.dtype, "crop mask")
    return dict(images=images, masks=masks, boxes=boxes, width=width, height=height), check


def _stitch(d):
    shape = _image_shape(d)
    originals = d.pixels("originals", shape)
    crop_size = (d.side(), d.side())
    crops = d.pixels("crops", (shape[0], *crop_size, d.choice((shape[3], shape[3], 3))))
    if _tensors(crops) and crops.shape[-1] != shape[3] and (crops.shape[-1], shape[3]) != (3, 4):
        d.bad("crops")
    boxes = _boxes(d, shape[0], *shape[1:3], crop_size=crop_size)
    args = dict(originals=originals, crops=crops, boxes=boxes)
    which = d.choice(("crop_masks", "full_masks", "crop_masks", "full_masks", "both", "neither"))
    if which in ("crop_masks", "both"):
        args["crop_masks"] = d.mask("crop_masks", (shape[0], *crop_size), optional=True)
    if which in ("full_masks", "both"):
        args["full_masks"] = d.mask("full_masks", shape[:3], optional=True)
    if which in ("both", "neither"):
        d.bad("crop_masks", "full_masks")

    def check(result):
        _tensor(result, shape, originals.dtype)
        got, original = _f64(result), _f64(originals)
        channels = crops.shape[-1]
        for i, (x1, y1, x2, y2) in enumerate(_as_tuples(boxes)):
            outside = np.ones(shape[1:3], bool)
            outside[y1:y2, x1:x2] = False
            if "full_masks" in args:
                outside |= _unit(args["full_masks"][i]) == 0
            require(np.array_equal(got[i][outside], original[i][outside]), "changed outside its box or mask")
            require(np.array_equal(got[i, ..., channels:], original[i, ..., channels:]), "changed the alpha")
            if crop_size == (y2 - y1, x2 - x1):  # nothing resampled: original + m * (crop - original)
                m = _unit(args["crop_masks"][i] if "crop_masks" in args else args["full_masks"][i][y1:y2, x1:x2])
                region = original[i, y1:y2, x1:x2, :channels]
                want = region + m[..., None] * (_unit(crops[i], torch.float32) - region)
                work = _eps(_work(originals.dtype))
                atol = 4 * work * (np.abs(region) + 1) + 2 * _eps(originals.dtype) * np.abs(want) + 1e-6 * m[..., None]
                _close(got[i, y1:y2, x1:x2, :channels], want, atol, what=f"picture {i} in its box")
    return args, check


def _uncrop(d):
    batch, height, width = d.choice((1, 2, 3)), d.side(), d.side()
    crop_size = (d.side(), d.side())
    crops = d.pixels("crops", (batch, *crop_size, d.choice((1, 3, 4))))
    boxes = _boxes(d, batch, height, width, crop_size=crop_size)
    height_, width_ = d.size("height", (height,), p_bad=0.05), d.size("width", (width,), p_bad=0.05)

    def check(result):
        _tensor(result, (batch, height, width, crops.shape[-1]), crops.dtype)
        got = _f64(result)
        for i, (x1, y1, x2, y2) in enumerate(_as_tuples(boxes)):
            outside = np.ones((height, width), bool)
            outside[y1:y2, x1:x2] = False
            require(not got[i][outside].any(), "not 0 outside its box")
            _resampled_alike(got[i, y1:y2, x1:x2], _unit(crops[i], torch.float32), (y2 - y1, x2 - x1), crops.dtype,
                             "uncrop")
    return dict(crops=crops, boxes=boxes, height=height_, width=width_), check


# --- masked content -------------------------------------------------------------------------------------


def _fill_masked_pixels(d):
    shape = _image_shape(d, channels=(3, 3, 3, 1))
    if shape[3] != 3:
        d.bad("image")
    image = d.pixels("image", shape)
    mask = d.mask("mask", (d.choice((1, shape[0])), *shape[1:3]))

    def check(result):
        _tensor(result, shape, image.dtype)
        untouched = np.broadcast_to(_unit(mask) == 0, shape[:3])
        require(np.array_equal(_f64(result)[untouched], _f64(image)[untouched]), "changed where the mask is 0")
        filled = _f64(result)[~untouched]
        require(((filled >= 0) & (filled <= 1)).all(), "a filled pixel outside 0-1")
    return dict(image=image, mask=mask), check


def _fill_masked_latent(d):
    shape = _latent_shape(d)
    latent = d.values("latent", shape, huge_may_fail=True)
    mask = d.mask("latent_mask", (d.choice((1, shape[0])), 1, *shape[2:]))
    noise = d.values("noise", shape, huge_may_fail=True, optional=True) if d.chance(0.5) else None

    def check(result):
        _tensor(result, shape, latent.dtype)
        w, x = _unit(mask), _f64(latent)
        n = _f64(noise) if noise is not None else np.zeros(shape)
        want = x * (1 - w) + n * w
        eps_w = _eps(_work(latent.dtype))
        _close(_f64(result), want, 4 * eps_w * (np.abs(x) + np.abs(n)) + 4 * _tiny(latent.dtype),
               2 * _eps(latent.dtype))
    return dict(latent=latent, latent_mask=mask, noise=noise), check


# --- the filter -----------------------------------------------------------------------------------------


def _kernel(d):
    """A kernel: a Gaussian's, random weights of any dtype, an array or nested lists; or a bad one."""
    radius = d.choice((0, 1, 2, 2, 2)) if d.chance(0.95) else MAX_KERNEL_RADIUS
    kernel, center = core.gaussian_kernel(d.choice((0.5, 1.5, 10.0)), radius)
    if d.chance(0.3):
        kernel = torch.rand(d.choice((1, 3, 4)), d.choice((1, 2, 5)), generator=d.generator, dtype=torch.float64)
        center = (d.rng.randrange(kernel.shape[0]), d.rng.randrange(kernel.shape[1]))
    kernel = kernel.to(d.choice(FLOATS)) if d.chance(0.3) else kernel
    if d.chance(0.1):
        kernel = d.choice((kernel.double().numpy(), kernel.tolist(), (kernel > 0.5).int(), kernel > 0.5))
    if d.chance(0.06):
        kernel = torch.zeros(2, 2)  # no weight anywhere: nothing to average (each pixel gives 0)
        center = d.choice((0, 1))
    if d.chance(0.08):
        d.bad("kernel")
        kernel, center = d.choice(((None, 0), ("kernel", 0), (torch.ones(3), 0), (-torch.ones(3, 3), 1),
                                   (torch.full((3, 3), math.nan), 1), (torch.ones(3, 3, dtype=torch.complex64), 1),
                                   (torch.ones(2 * MAX_KERNEL_RADIUS + 2, 1), 0), (torch.ones(0, 3), 0)))
    elif d.chance(0.1):
        d.bad("kernel_center")
        center = d.choice((-1, 100, (0, 100), "c", None, 1.5, (0, 0, 0), True, [(0, 1)]))
    elif d.chance(0.1):
        center = d.choice((np.int64(center if isinstance(center, int) else 0), list(center) if isinstance(
            center, tuple) else center, np.array(center)))
    d.note(f"kernel {type(kernel).__name__} {getattr(kernel, 'shape', None)} centre {center!r}")
    return kernel, center


def _weighted_histogram_filter(d):
    shape = (d.side(), d.side()) if d.chance(0.3) else (d.choice((1, 2, 3)), d.side(), d.side())
    if d.chance(0.03):
        shape = d.choice(((1, MAX_SIZE + 1), (2, 2, 2, 2), (3,)))
        d.bad("img")
    img = d.values("img", shape, huge_may_fail=True)  # float64 beyond float32's range is refused
    kernel, center = _kernel(d)
    low = d.choice((0.0, 0.25, 0.5, 0.9, 1.0, 1e-200))
    high = d.choice([v for v in (0.0, 0.5, 0.75, 1.0) if v >= low] or [1.0])
    if d.chance(0.1):
        low, high = d.choice(((0.6, 0.4), (-0.1, 0.5), (0.5, 1.1), (math.nan, 1.0), (None, 1.0), (0.0, "1")))
        d.bad("percentile_min", "percentile_max")
    min_width = d.number("min_width", (1.0, 0.5, 100.0, 1e-9, 1e-200, 1e300),
                         (0.0, -1.0, math.nan, math.inf, 10**400, *NOT_NUMBERS))
    d.note(f"band {low}-{high}")

    def check(result):
        _tensor(result, shape, img.dtype)
        # As documented: values and weights in float32 (float64 images too), stack positions in float64.
        weights = torch.as_tensor(kernel).float().double()
        values = _f64(img.detach().float()).reshape(-1, *shape[-2:])
        got = _f64(result).reshape(values.shape)
        largest = np.abs(values).max()
        precision = torch.float32 if img.dtype == torch.float64 else img.dtype
        atol = 8 * _eps(torch.float32) * largest + 2 * _eps(precision) * np.abs(got) + 4 * _tiny(img.dtype)
        # A band's edges are stack positions summed in float64, each off by some units of the stack's height:
        # a narrow band may take a little more of one value and less of the next.
        positive = weights[weights > 0]
        if positive.numel():
            narrowest = min_width if low == high else min(min_width, (high - low) * float(positive.min()))
            edges = np.ptp(values) * 64 * _eps(torch.float64) * float(weights.sum()) / narrowest
            atol = np.nan_to_num(atol + edges, nan=np.inf)
        if values[0].size * weights.numel() > 20_000:  # too slow per pixel: a band average lies in the range
            require(bool(((got >= values.min() - atol) & (got <= values.max() + atol)).all()), "outside its range")
            return
        pair = tuple(int(c) for c in np.broadcast_to(np.asarray(center), (2,)))
        scale = 2.0**-60 if largest > 1e290 else 1.0  # the plain sums would overflow float64 (exact: a power of 2)
        for index in sorted({d.rng.randrange(len(values)) for _ in range(2)}):
            want = np.array(ref.reference_filter(values[index] * scale, weights.numpy(), pair, low, high,
                                                 min_width)) / scale
            want = want.clip(-np.finfo(np.float64).max, np.finfo(np.float64).max)  # an average of them, rounded
            _close(got[index], want, atol if np.ndim(atol) == 0 else atol[index], what=f"image {index}")
    args = dict(img=img, kernel=kernel, kernel_center=center, percentile_min=low, percentile_max=high,
                min_width=min_width)
    return args, check


def _gaussian_kernel(d):
    stddev = d.number("stddev_radius", (1e-320, 1e-200, 1e-3, 0.5, 1.0, 1.5, 1e3, 1e9, 1e200, 1.7e308, 2),
                      (0.0, -1.0, math.nan, math.inf, 10**400, *NOT_NUMBERS))
    radius = d.number("max_radius", (0, 1, 2, 7, MAX_KERNEL_RADIUS, 2.0, np.int64(3)),
                      (-1, 2.5, math.nan, MAX_KERNEL_RADIUS + 1, 10**400, 10**6, None, "2"))

    def check(result):
        kernel, center = result
        side = 2 * int(radius) + 1
        _tensor(kernel, (side, side), torch.float64)
        require(center == radius and float(kernel[center, center]) == 1.0, "centre is not 1")
        _close(kernel.numpy(), ref.gaussian_kernel(float(stddev), int(radius)), 1e-13, 1e-12)
    return dict(stddev_radius=stddev, max_radius=radius), check


# --- settings and the rest ------------------------------------------------------------------------------


def _parameter(d, spec, name):
    good = (spec.minimum, spec.maximum, spec.default, int(spec.maximum), np.float32(spec.minimum),
            spec.minimum + 1e-200 if spec.minimum == 0 else spec.minimum)
    bad = (spec.minimum - 1e-9, spec.maximum + 1e-9, math.nan, math.inf, 10**400, -(10**400), *NOT_NUMBERS)
    return d.number(name, good, bad, p_bad=0.04)


def _settings_check(values):
    def check(settings):
        require(isinstance(settings, core.SoftInpaintSettings), f"returned {type(settings).__name__}")
        for field in fields(settings):
            value = getattr(settings, field.name)
            require(type(value) is float and value == float(values.get(field.name, core.PARAMETERS[
                field.name].default)), f"{field.name} = {value!r}")
    return check


def _soft_inpaint_settings(d):
    values = {spec.name: _parameter(d, spec, spec.name) for spec in core.PARAMETERS.values() if d.chance(0.8)}
    return values, _settings_check(values)


def _from_a1111(d):
    values = {spec.a1111_name: _parameter(d, spec, spec.name) for spec in core.PARAMETERS.values() if d.chance(0.6)}
    wanted = {spec.name: values[spec.a1111_name] for spec in core.PARAMETERS.values() if spec.a1111_name in values}
    if d.chance(0.05):
        values["mask_blur"] = 4
        d.bad("mask_blur")
    if d.chance(0.06):
        values = d.choice((None, 3, "mask_blend_power", list(values), [(k, v) for k, v in values.items()]))
        d.bad("values")
    d.note(f"values={values!r:.200}")
    return dict(values=values), _settings_check(wanted)


def _smootherstep(d):
    x = d.values("x", d.choice(((d.side(),), (2, d.side(), d.side()))))

    def check(result):
        _tensor(result, x.shape, x.dtype)
        want = np.vectorize(ref.smootherstep)(_f64(x))
        _close(_f64(result), want, 16 * _eps(_work(x.dtype)), 2 * _eps(x.dtype))
    return dict(x=x), check


def _mask_layout(d, batch, height, width, name="mask"):
    """A MASK in one of ComfyUI's layouts, or sometimes a layout that is none of them."""
    layout = d.choice(("2d", "3d", "3d", "4d", "bad"))
    shape = {"2d": (height, width), "3d": (batch, height, width), "4d": (batch, 1, height, width),
             "bad": (batch, 2, height, width)}[layout]
    if layout == "bad":
        d.bad(name)
    return d.mask(name, shape)


def _mask_batch(d):
    batch, height, width = d.choice((1, 2, 3)), d.side(), d.side()
    mask = _mask_layout(d, batch, height, width)

    def check(result):
        _tensor(result, (batch if mask.ndim > 2 else 1, height, width), torch.float32, unit=True)
        require(np.array_equal(_f64(result).reshape(-1), _unit(mask, torch.float32).reshape(-1)),
                "not the mask clamped to 0-1")
    return dict(mask=mask), check


def _mask_at_size(d):
    masks = d.mask("masks", (d.choice((1, 2, 3)), d.side(), d.side()))
    height, width = d.choice((1, 2, 7, 13)), d.choice((1, 2, 7, 13))

    def check(result):
        _tensor(result, (masks.shape[0], height, width), _work(masks.dtype), unit=True)
        if bool((masks >= 1).all()):  # interpolation weights sum to 1 up to rounding
            require(bool((result >= 1 - 4 * _eps(result.dtype)).all()), "an all-one mask is not one once resized")
    return dict(masks=masks, height=height, width=width), check


def _eight_bit_levels(d):
    mask = d.mask("mask", _latent_shape(d))

    def check(result):
        _tensor(result, mask.shape, _work(mask.dtype), unit=True)
        scaled = _unit(mask) * 255
        at_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3  # where float32 may round the other way
        off = np.abs(_f64(result) * 255 - np.round(scaled))
        require(bool((off[~at_half] < 1e-3).all() and (off < 1 + 1e-3).all()), "not the mask's 8-bit levels")
    return dict(mask=mask), check


def _masks_for_latent(d):
    shape = _latent_shape(d)
    frames = d.choice((1, shape[2], 1 + 4 * (shape[2] - 1))) if len(shape) == 5 else shape[0]
    scale = d.choice((1, 8))
    mask = _mask_layout(d, frames, shape[-2] * scale + (d.choice((0, 3)) if scale == 8 else 0), shape[-1] * scale)

    def check(masks):
        for part in (masks.blend, masks.model):
            _tensor(part, (shape[0], 1, *shape[2:]), torch.float32, unit=True)
    return dict(mask=mask, latent_shape=shape, temporal_ratio=d.choice((None, 4))), check


def _paste_back(d):
    batch, height, width, scale = d.choice((1, 2)), d.side(), d.side(), d.choice((1, 8))
    border = d.choice((0, 5)) if scale == 8 else 0
    original = d.pixels("original_image", (batch, height * scale + border, width * scale, 3))
    inpainted = d.pixels("inpainted_image", (batch, height * scale, width * scale, 3))
    changed = d.mask("changed", (batch, height, width))
    if isinstance(changed, torch.Tensor) and changed.dtype == torch.bool:
        d.bad("changed")

    def check(result):
        image, mask = result
        _tensor(image, original.shape, torch.promote_types(original.dtype, inpainted.dtype))
        _tensor(mask, original.shape[:3], torch.float32, unit=True)
        kept = (mask == 0).unsqueeze(-1).expand_as(image)
        require(torch.equal(image[kept], original.detach().to(image.dtype)[kept]), "original not kept where mask is 0")
    return dict(original_image=original, inpainted_image=inpainted, changed=changed), check


def _crop_around_masks(d):
    shape = _image_shape(d)
    image = d.pixels("image", shape)
    mask = _mask_layout(d, shape[0], *shape[1:3])
    width, height = d.sizes(("width", "height"), good=(1, 8, 13, 64))
    padding = d.number("padding", (0, 4, 32), (-1, 2.5, None))

    def check(result):
        crops, crop_masks, where = result
        _tensor(crops, (shape[0], height, width, shape[3]), image.dtype)
        _tensor(crop_masks, (shape[0], height, width), torch.float32, unit=True)
        require(len(where.boxes) == shape[0], "not one box per picture")
    return dict(image=image, mask=mask, width=width, height=height, padding=padding), check


def _stitch_crops(d):
    shape = _image_shape(d)
    original = torch.rand(shape, generator=d.generator)
    where = core.crop_around_masks(original, torch.rand(shape[:3], generator=d.generator), 8, 8, 2)[2]
    image = d.pixels("image", (shape[0] + (1 if d.chance(0.1) else 0), d.side(), d.side(), shape[3]))
    if isinstance(image, torch.Tensor) and image.shape[0] != shape[0]:
        d.bad("image")
    return dict(crops=where, image=image), lambda r: _tensor(r, shape, original.dtype)


def _original_kept(d):
    nmask = d.mask("nmask", _latent_shape(d))
    args = dict(nmask=nmask, sigma=_sigma(d, nmask.shape[0] if isinstance(nmask, torch.Tensor) else 1),
                settings=_settings(d))

    def check(result):
        require(isinstance(result, torch.Tensor) and result.dtype == torch.bool, f"returned {result!r:.60}")
        require(tuple(result.shape) == tuple(nmask.shape), f"shape {tuple(result.shape)}")
        # A mask of 1 keeps the inpainting wholly at any exponent (1 ** x is 1).
        require(not bool(result[torch.as_tensor(_unit(nmask) == 1)].any()), "kept where the mask is 1")
    return args, check


def _video_model_mask(d):
    latent_frames, height, width = d.choice((2, 3)), d.side(), d.side()
    frames = 1 + 4 * (latent_frames - 1)
    masks = d.mask("mask", (d.choice((1, frames)), height * 8, width * 8))
    shape = (1, 16, latent_frames, height, width)

    def check(result):
        _tensor(result, (1, 4, *shape[2:]), torch.float32, unit=True)
        first = core.conditioning_mask(masks.detach().float().clamp(0, 1)[:1], height, width)[0, 0]
        require(bool((result[0, :, 0] == first).all()), "the first latent frame is not the first frame's mask")
    return dict(mask=masks, pixel_frames=frames, latent_shape=shape, temporal_compression=d.choice((None, 4))), \
        check


BUILDERS = {
    "original_kept": _original_kept,
    "video_model_mask": _video_model_mask,
    "mask_batch": _mask_batch,
    "mask_at_size": _mask_at_size,
    "eight_bit_levels": _eight_bit_levels,
    "masks_for_latent": _masks_for_latent,
    "paste_back": _paste_back,
    "crop_around_masks": _crop_around_masks,
    "stitch_crops": _stitch_crops,
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
    "SoftInpaintSettings.from_a1111": _from_a1111,
    "smootherstep": _smootherstep,
}


# --- running a case -------------------------------------------------------------------------------------


def _function(name):
    target = core
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _alike(x, y) -> bool:
    """The same results up to a few units of rounding (a reduction may sum in another order in another
    layout): tensors, numpy arrays, and tuples or lists of them or of numbers."""
    if is_dataclass(x):
        return type(x) is type(y) and all(_alike(getattr(x, f.name), getattr(y, f.name)) for f in fields(x))
    if isinstance(x, (tuple, list)):
        return type(x) is type(y) and len(x) == len(y) and all(_alike(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, np.ndarray):
        return isinstance(y, np.ndarray) and np.array_equal(x, y)
    if isinstance(x, torch.Tensor):
        if not isinstance(y, torch.Tensor) or x.dtype != y.dtype or x.shape != y.shape:
            return False
        x, y = x.detach(), y.detach()
        if not x.is_floating_point():
            return bool((x == y).all())
        # A few units of the result's type at its own and at the result's largest size (a sum in another
        # order rounds apart, and a steep function of it moves further), and of float64's where a function
        # works in logs (whose rounding grows with them).
        size = x.abs().double()
        allowed = 16 * _eps(x.dtype) * (size + size.max()) + 64 * _eps(torch.float64) * size + 4 * _tiny(x.dtype)
        return bool(((x.double() - y.double()).abs() <= allowed).all())
    return x == y


def _plain(value):
    """A laid-out tensor as a fresh contiguous one (the same values)."""
    return value.detach().clone(memory_format=torch.contiguous_format) if isinstance(value, torch.Tensor) else value


def _invariants(function, args, result, d):
    """The same result for the same values in a contiguous layout, and for overshooting masks clamped."""
    if d.laid_out:
        try:
            plain = _function(function)(**{name: _plain(value) for name, value in args.items()})
        except Exception as error:
            raise Wrong(f"{type(error).__name__} once {sorted(d.laid_out)} are contiguous: {error}") from None
        require(_alike(result, plain), f"the result changes once {sorted(d.laid_out)} are contiguous")
    if d.overshooting:
        clamped = {**args, **{name: args[name].clamp(0, 1) for name in d.overshooting}}
        try:
            same = _alike(result, _function(function)(**clamped))
        except Exception as error:  # the clamped masks are valid: any error is a failure
            raise Wrong(f"{type(error).__name__} once {sorted(d.overshooting)} are clamped: {error}") from None
        require(same, f"the result changes once {sorted(d.overshooting)} are clamped to [0, 1]")


def _classify(function, seed):
    """Run one case: (outcome, description)."""
    d = Draw(seed)
    args, check = BUILDERS[function](d)
    tensors = {name: value for name, value in args.items() if isinstance(value, torch.Tensor)}

    def check_all(result):
        with np.errstate(all="ignore"):  # the formulas overflow where the dtype's largest values are drawn
            check(result)
        _invariants(function, args, result, d)
    outcome, text = classify(d, lambda: _function(function)(**args), check_all, tensors)
    return outcome, f"case {seed} ({'; '.join(d.notes)}): {text}"


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    """Print the cases by outcome, past pytest's output capture (the lead quotes the counts)."""
    yield
    print_counts(request, "core fuzzing, cases by function", COUNTS)


@pytest.mark.parametrize("function", list(BUILDERS))
def test_fuzz(function):
    start = zlib.crc32(function.encode()) + FIRST_SEED * 1_000_003
    counts, failures = COUNTS.setdefault(function, {}), []
    for seed in range(start, start + CASES_PER_FUNCTION):
        outcome, description = _classify(function, seed)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome in (UNCLEAR, SILENT):
            failures.append(f"{outcome}: {description}")
    assert not failures, f"{len(failures)} of {CASES_PER_FUNCTION} cases failed:\n" + "\n".join(failures[:8])


def test_every_public_function_is_fuzzed():
    public = {name for name in core.__all__ if callable(getattr(core, name))} - {"ParameterSpec", "Crops",
                                                                                "InpaintMasks"}
    assert public == {name.split(".")[0] for name in BUILDERS}
