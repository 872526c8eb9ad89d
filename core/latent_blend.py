"""Stage one of soft inpainting: the per-step blend of the denoised latent with the original."""

import math

import torch

from .precision import wide_float

# Added to the blended magnitude before dividing by it, as A1111 does, so zero vectors stay zero.
MAGNITUDE_EPSILON = 1e-5


def _check_latents(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> None:
    if a.ndim not in (4, 5):
        raise ValueError(f"latent_blend: 'a' must be [B,C,H,W] or [B,C,T,H,W], got shape {tuple(a.shape)}")
    if b.shape != a.shape:
        raise ValueError(f"latent_blend: 'b' must have the shape of 'a' {tuple(a.shape)}, got {tuple(b.shape)}")
    if t.ndim != a.ndim or t.shape[1] not in (1, a.shape[1]) or t.shape[0] not in (1, a.shape[0]) \
            or t.shape[2:] != a.shape[2:]:
        raise ValueError(
            f"latent_blend: 't' must be [B or 1, 1 or C, ...] matching 'a' {tuple(a.shape)}, "
            f"got {tuple(t.shape)}"
        )


def latent_blend(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, detail_preservation: float) -> torch.Tensor:
    """Interpolate latents from `a` (t=0) to `b` (t=1), interpolating vector lengths separately.

    Each latent pixel is a vector over the channel axis. The linear blend shortens vectors that point
    different ways, which greys out half-masked areas; so the blended vector is rescaled to the length
    ((1-t)|a|^p + t|b|^p)^(1/p), p = `detail_preservation`. p=1 is a plain interpolation of lengths; a
    large p leans towards the longer of the two. `t` is taken from its first channel for the length.
    """
    _check_latents(a, b, t)
    if not (math.isfinite(detail_preservation) and detail_preservation > 0):
        raise ValueError(f"latent_blend: detail_preservation must be a finite number > 0, got {detail_preservation}")
    out_dtype = torch.promote_types(a.dtype, b.dtype)
    wide = wide_float(a.device)

    linear = torch.lerp(a.to(out_dtype), b.to(out_dtype), t.to(out_dtype))

    # Lengths in the wide type: p up to 32 overflows float32.
    t_wide = t[:, :1].to(wide)
    a_length = torch.linalg.vector_norm(a, dim=1, keepdim=True, dtype=wide)
    b_length = torch.linalg.vector_norm(b, dim=1, keepdim=True, dtype=wide)
    wanted = ((1 - t_wide) * a_length.pow(detail_preservation) + t_wide * b_length.pow(detail_preservation))
    wanted = wanted.pow(1 / detail_preservation)
    current = torch.linalg.vector_norm(linear, dim=1, keepdim=True, dtype=wide) + MAGNITUDE_EPSILON
    return linear * (wanted / current).to(out_dtype)


def modified_nmask(nmask: torch.Tensor, sigma, mask_blend_power: float, mask_blend_scale: float) -> torch.Tensor:
    """The blend weight of the denoised latent at noise level `sigma`: nmask ** (sigma**power * scale).

    `nmask` is 1 where the image is inpainted. Raising it to a power stands for repeating the blend that
    many times; the power shrinks with sigma, so the original is preserved most while the noise is high.
    `sigma` is a number or a tensor of one sigma per batch sample. 0 ** 0 is 1: at sigma 0 (or a zero
    strength) nothing is preserved.
    """
    if isinstance(sigma, torch.Tensor):
        sigma = sigma.to(device=nmask.device, dtype=torch.float64)
        if sigma.numel() > 1:
            if sigma.ndim != 1 or sigma.shape[0] not in (1, nmask.shape[0]):
                raise ValueError(
                    f"modified_nmask: sigma must be a number or one value per sample ({nmask.shape[0]}), "
                    f"got shape {tuple(sigma.shape)}"
                )
            sigma = sigma.reshape(-1, *([1] * (nmask.ndim - 1)))
        else:
            sigma = sigma.reshape(())
    exponent = sigma ** mask_blend_power * mask_blend_scale
    return torch.pow(nmask, exponent).to(nmask.dtype)


def flow_to_sd_sigma(sigma: torch.Tensor) -> torch.Tensor:
    """The SD noise level of a flow model's sigma s (x = (1-s) x0 + s n): s / (1-s), the noise-to-signal
    ratio that SD's sigma measures. Capped at 1e6 where s reaches 1 (pure noise)."""
    return sigma / (1 - sigma).clamp_min(1e-6)


def blend_denoised(original, denoised, nmask, sigma, settings) -> torch.Tensor:
    """One soft-inpainting step: blend a step's denoised latent with the original latent.

    `nmask` (1 = inpaint) becomes the sigma-scheduled weight of `denoised`; the original fills the rest.
    `settings` is a SoftInpaintSettings (its three schedule parameters are used).
    """
    weight = modified_nmask(nmask, sigma, settings.schedule_bias, settings.preservation_strength)
    return latent_blend(original, denoised, weight, settings.transition_contrast_boost)
