"""Stage one of soft inpainting: the per-step blend of the denoised latent with the original."""

import math

import torch

from .precision import channel_length, wide_float
from .settings import check_settings
from .tensor_checks import all_finite, check_range, check_tensor, result_dtype, unit_mask, working_dtype

# Added to the blended magnitude before dividing by it, as A1111 does, so zero vectors stay zero.
MAGNITUDE_EPSILON = 1e-5


def _check_latents(a, b, t, names, where) -> None:
    name_a, name_b, name_t = names
    check_tensor(a, f"{where}: {name_a}")
    check_tensor(b, f"{where}: {name_b}")
    if a.ndim not in (4, 5):
        raise ValueError(f"{where}: {name_a} must be [B,C,H,W] or [B,C,T,H,W], got shape {tuple(a.shape)}")
    if b.shape != a.shape:
        raise ValueError(f"{where}: {name_b} must have the shape of {name_a} {tuple(a.shape)}, got {tuple(b.shape)}")
    if not isinstance(t, torch.Tensor) or t.ndim != a.ndim or t.shape[1] not in (1, a.shape[1]) \
            or t.shape[0] not in (1, a.shape[0]) or t.shape[2:] != a.shape[2:]:
        shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{where}: {name_t} must be [B or 1, 1 or C, ...] matching {name_a} {tuple(a.shape)}, "
                         f"got {shape}")


def _log_power_mean(log_a, log_b, t, p):
    """log ((1-t) a^p + t b^p)^(1/p) of lengths a, b >= 0 given by their logs: a^p and b^p under- and
    overflow, and so may the mean.

    Taken from the longer length h (weight w) and the shorter l: log h + log(w + (1-w) e^d) / p with
    d = p (log l - log h) <= 0. Where |d| < 1 the last log is log1p((1-w) expm1(d)), which keeps its digits
    however small p is (as p -> 0 the mean becomes the weighted geometric one); beyond, a logaddexp, whose
    rounding dividing by p then cannot magnify past |log l - log h|."""
    b_longer = log_b >= log_a
    log_long, log_short = torch.maximum(log_a, log_b), torch.minimum(log_a, log_b)
    w_long, w_short = torch.where(b_longer, t, 1 - t), torch.where(b_longer, 1 - t, t)
    gap = log_short - log_long  # <= 0; NaN where both lengths are 0
    d = p * gap
    near = d.abs() < 1
    # (1/p) log1p(w_short expm1(d)) = gap * share, share -> w_short as d -> 0 (its series below 1e-8).
    share = torch.where(d.abs() < 1e-8, w_short * (1 + w_long * d / 2),
                        torch.log1p(w_short * torch.expm1(d)) / torch.where(near, d, 1))
    log_t, log_1_t = t.log(), torch.log1p(-t)  # log1p: log(1 - t) of a tiny t, divided by p, is its whole value
    log_w_long, log_w_short = torch.where(b_longer, log_t, log_1_t), torch.where(b_longer, log_1_t, log_t)
    far = torch.logaddexp(log_w_long, log_w_short + d) / p
    log_mean = log_long + torch.where(near, gap * share, far)
    # Exact ends (at t = 0 or 1 a huge p would turn e^d to 0), and 0 for two zero vectors.
    log_mean = torch.where(t == 0, log_a, torch.where(t == 1, log_b, log_mean))
    return torch.where(log_long == -torch.inf, -torch.inf, log_mean)


def _blend(a, b, t, detail_preservation, names=("'a'", "'b'", "'t'"), where="latent_blend"):
    _check_latents(a, b, t, names, where)
    p = check_range(detail_preservation, f"{where}: detail_preservation", 0, low_open=True)
    return _blended(a, b, unit_mask(t, f"{where}: {names[2]}"), p, names, where)


def _blended(a, b, t, p, names, where):
    """_blend of checked latents, a checked weight t in 0-1 and p > 0."""
    out_dtype = torch.promote_types(a.dtype, b.dtype)
    work, wide = working_dtype(out_dtype), wide_float(a.device)
    t = t.to(work)
    # (1 - t) a + t b, not lerp's a + t (b - a): the difference of values near the type's largest overflows.
    linear = (b.to(work) * t).addcmul_(a.to(work), 1 - t)
    # Lengths and their power mean in the wide type, in logs (p * log|a| needs more digits than float32
    # keeps, and float64 lengths may pass its largest value).
    log_wanted = _log_power_mean(channel_length(a, wide, log=True), channel_length(b, wide, log=True),
                                 t[:, :1].to(wide), p)
    log_linear = channel_length(linear, wide, log=True)
    log_current = torch.logaddexp(log_linear, log_linear.new_tensor(math.log(MAGNITUDE_EPSILON)))
    # The rescale (wanted / current) in two equal factors: as one it may pass the work type's range where
    # the blend of nearly opposite vectors is short, though the result does not.
    half = ((log_wanted - log_current) / 2).exp().to(work)
    out = (linear * half * half).to(out_dtype)
    if not all_finite(out):
        raise ValueError(f"{where}: the blend of {names[0]} and {names[1]} overflows {out_dtype}: "
                         "their values are too large for it")
    return out


def latent_blend(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, detail_preservation: float) -> torch.Tensor:
    """Interpolate latents from `a` (t=0) to `b` (t=1), interpolating vector lengths separately.

    Each latent pixel is a vector over the channel axis. The linear blend shortens vectors that point
    different ways, which greys out half-masked areas; so the blended vector is rescaled to the length
    ((1-t)|a|^p + t|b|^p)^(1/p), p = `detail_preservation`. p=1 is a plain interpolation of lengths; a
    large p leans towards the longer of the two. `t` (float or bool) is clamped to [0, 1] and taken from
    its first channel for the length. Computed in float32 or wider; returns the promoted type of a and b,
    or raises ValueError if the result does not fit it.
    """
    return _blend(a, b, t, detail_preservation)


def _sigma_tensor(sigma, nmask: torch.Tensor, batch: int) -> torch.Tensor:
    """`sigma` as a tensor of nmask's type that broadcasts over it: a scalar, or one value per sample of
    `batch`."""
    if not isinstance(sigma, torch.Tensor):
        sigma = check_range(sigma, "modified_nmask: sigma", 0)  # a number (or a TypeError naming it)
    # Straight to nmask's (wide) type: through torch's default float32, a number such as 1e300 is inf.
    sigma = torch.as_tensor(sigma, dtype=nmask.dtype, device=nmask.device)
    if sigma.numel() == 0 or not bool((torch.isfinite(sigma) & (sigma >= 0)).all()):
        raise ValueError(f"modified_nmask: sigma must be finite and >= 0, got {sigma}")
    if sigma.numel() == 1:
        return sigma.reshape(())
    if sigma.ndim != 1 or nmask.ndim == 0 or sigma.shape[0] != batch:
        raise ValueError(f"modified_nmask: sigma must be a number or one value per sample ({batch}), "
                         f"got shape {tuple(sigma.shape)}")
    return sigma.reshape(-1, *([1] * (nmask.ndim - 1)))


def _scheduled_weight(nmask, sigma, mask_blend_power, mask_blend_scale, batch=None) -> torch.Tensor:
    """modified_nmask in the wide type (tiny exponents round to 0 in float32, and 0 ** 0 is 1). A batch-1
    mask with one sigma per sample of `batch` gives `batch` weights."""
    mask = unit_mask(nmask, "modified_nmask: nmask", wide=True)
    power = check_range(mask_blend_power, "modified_nmask: mask_blend_power", 0)
    scale = check_range(mask_blend_scale, "modified_nmask: mask_blend_scale", 0)
    sigma = _sigma_tensor(sigma, mask, batch or (mask.shape[0] if mask.ndim else 1))
    if scale == 0:  # the exponent is 0 all the same, where sigma**power overflowed too (not inf * 0 = NaN)
        return mask.pow(torch.zeros_like(sigma))
    # Where sigma > 0 the exponent is > 0 even if it underflowed: kept so, else 0 ** 0 would keep the inpainting.
    exponent = sigma.pow(power) * scale
    return mask.pow(torch.where(sigma > 0, exponent.clamp_min(torch.finfo(exponent.dtype).tiny), exponent))


def modified_nmask(nmask: torch.Tensor, sigma, mask_blend_power: float, mask_blend_scale: float) -> torch.Tensor:
    """The blend weight of the denoised latent at noise level `sigma`: nmask ** (sigma**power * scale).

    `nmask` is 1 where the image is inpainted (float or bool, clamped to [0, 1]). Raising it to a power
    stands for repeating the blend that many times; the power shrinks with sigma, so the original is
    preserved most while the noise is high. `sigma` (>= 0) is a number or a tensor of one sigma per batch
    sample. 0 ** 0 is 1, as in A1111: at sigma 0 or a zero scale nothing is preserved, not even where the
    mask is 0. Computed in the wide type; returns nmask's dtype (float32 for a bool mask).
    """
    weight = _scheduled_weight(nmask, sigma, mask_blend_power, mask_blend_scale)
    return weight.to(result_dtype(nmask.dtype))


def original_kept(nmask: torch.Tensor, sigma, settings) -> torch.Tensor:
    """Where the step at noise level `sigma` gives back the original wholly: its scheduled weight of `nmask`
    is exactly 0 (blend_denoised then returns the original there). Bool, nmask's shape. `settings` is a
    SoftInpaintSettings; `sigma` a number or one per sample of nmask's batch.

    Models that read the noise mask as per-token timesteps are shown the original with timestep 0 there,
    as ComfyUI shows them wherever its mask is 0."""
    check_settings(settings, "original_kept: settings")
    return _scheduled_weight(nmask, sigma, settings.schedule_bias, settings.preservation_strength) == 0


def flow_to_sd_sigma(sigma: torch.Tensor) -> torch.Tensor:
    """The SD noise level of a flow model's sigma s in [0, 1] (x = (1-s) x0 + s n): s / (1-s), the
    noise-to-signal ratio that SD's sigma measures. Capped at 1e6 (or the dtype's largest value, for
    float16) where s reaches 1 (pure noise). Returns sigma's dtype."""
    check_tensor(sigma, "flow_to_sd_sigma: sigma")
    # A shifted schedule's s = 1 may come out a rounding step above 1: that much is clamped, not refused.
    slack = 4 * torch.finfo(sigma.dtype).eps
    if not bool(((sigma >= -slack) & (sigma <= 1 + slack)).all()):
        raise ValueError(f"flow_to_sd_sigma: sigma must be in [0, 1] (a flow model's noise level), got "
                         f"values from {sigma.min().item()} to {sigma.max().item()}")
    s = sigma.to(wide_float(sigma.device)).clamp(0, 1)
    cap = min(1e6, torch.finfo(sigma.dtype).max)
    return (s / (1 - s).clamp_min(1e-6)).clamp_max(cap).to(sigma.dtype)


def blend_denoised(original, denoised, nmask, sigma, settings) -> torch.Tensor:
    """One soft-inpainting step: blend a step's denoised latent with the original latent.

    `nmask` (1 = inpaint) becomes the sigma-scheduled weight of `denoised`; the original fills the rest.
    `settings` is a SoftInpaintSettings (its three schedule parameters are used). Where the weight is
    exactly 0 or 1 the step gives the original or the denoised latent itself, so an unmasked area keeps
    the original exactly, as ComfyUI's own masked sampling does (latent_blend's A1111 epsilon would shrink
    each vector by about 1e-5 of its length at every step).
    """
    check_settings(settings, "blend_denoised: settings")
    names = ("original", "denoised", "nmask")
    _check_latents(original, denoised, nmask, names, "blend_denoised")  # before the weight, whose shape it sets
    weight = _scheduled_weight(nmask, sigma, settings.schedule_bias, settings.preservation_strength, original.shape[0])
    blended = _blended(original, denoised, weight, settings.transition_contrast_boost, names, "blend_denoised")
    weight = weight.to(blended.device)
    return torch.where(weight == 0, original.to(blended), torch.where(weight == 1, denoised.to(blended), blended))
