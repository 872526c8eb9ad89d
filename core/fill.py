"""A1111's "masked content" options: fill (in pixels, before encoding), latent noise and latent nothing."""

import numpy as np
import torch
from PIL import Image, ImageFilter

from .latent_mask import mask_to_8bit

# A1111's fill: the unmasked picture blurred ever less, each layer composited over the last
# (radius, how many times).
_FILL_LAYERS = ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1))


def _fill_one(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # Premultiplied alpha: blurring spreads the unmasked colours into the hole without darkening them.
    visible = Image.fromarray(np.dstack([rgb, 255 - mask]), "RGBA").convert("RGBa")
    canvas = Image.new("RGBA", visible.size)
    for radius, times in _FILL_LAYERS:
        layer = visible.filter(ImageFilter.GaussianBlur(radius)).convert("RGBA")
        for _ in range(times):
            canvas.alpha_composite(layer)
    return np.asarray(canvas.convert("RGB"))


def fill_masked_pixels(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill the masked area of ComfyUI images [B,H,W,3] with the surrounding colours, blurred (A1111's
    "fill"). `mask` is [B or 1,H,W] in 0-1; where it is 0 the pixels are returned untouched."""
    if image.ndim != 4 or image.shape[-1] != 3:
        raise ValueError(f"image must be [B,H,W,3], got shape {tuple(image.shape)}")
    if mask.ndim != 3 or mask.shape[1:] != image.shape[1:3] or mask.shape[0] not in (1, image.shape[0]):
        raise ValueError(f"mask must be [1 or {image.shape[0]},H,W] with H,W = {tuple(image.shape[1:3])}, "
                         f"got {tuple(mask.shape)}")
    masks = mask.expand(image.shape[0], -1, -1)
    filled = np.stack([_fill_one(rgb, m) for rgb, m in zip(mask_to_8bit(image), mask_to_8bit(masks), strict=True)])
    filled = torch.from_numpy(filled).to(device=image.device, dtype=image.dtype) / 255
    return torch.where((masks == 0).unsqueeze(-1).to(image.device), image, filled)


def _check_latent_fill(latent, latent_mask, noise) -> None:
    for name, x in (("latent", latent), ("latent_mask", latent_mask), ("noise", noise)):
        if x is not None and not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if latent.ndim < 3 or latent.numel() == 0 or not latent.is_floating_point():
        raise ValueError(f"latent must be a non-empty float tensor [B,C,...], got {latent.dtype} {tuple(latent.shape)}")
    expected = f"[1 or {latent.shape[0]}, 1, {', '.join(map(str, latent.shape[2:]))}]"
    if (latent_mask.ndim != latent.ndim or latent_mask.shape[1] != 1 or latent_mask.shape[2:] != latent.shape[2:]
            or latent_mask.shape[0] not in (1, latent.shape[0])):
        raise ValueError(f"latent_mask must be {expected} for the latent {tuple(latent.shape)}, "
                         f"got {tuple(latent_mask.shape)}")
    if not (latent_mask.is_floating_point() or latent_mask.dtype == torch.bool):
        raise TypeError(f"latent_mask must hold floats or bools, got {latent_mask.dtype}")
    if noise is not None and noise.shape != latent.shape:
        raise ValueError(f"noise must have the latent's shape {tuple(latent.shape)}, got {tuple(noise.shape)}")
    for name, x in (("latent_mask", latent_mask), ("noise", noise)):
        if x is not None and x.device != latent.device:
            raise ValueError(f"{name} is on {x.device} but the latent is on {latent.device}")
    if latent_mask.is_floating_point() and torch.isnan(latent_mask).any():
        raise ValueError("latent_mask holds NaN values")


def fill_masked_latent(latent: torch.Tensor, latent_mask: torch.Tensor, noise: torch.Tensor | None = None):
    """Replace the masked part of a model-space latent [B,C,...] by `noise` ("latent noise") or by zeros
    ("latent nothing"), in proportion to `latent_mask` ([B or 1, 1, ...]; bools, or floats clamped to 0-1),
    as A1111 does. Computed in at least float32; returns the latent's dtype."""
    _check_latent_fill(latent, latent_mask, noise)
    dtype = torch.promote_types(latent.dtype, torch.float32)
    weight = latent_mask.to(dtype).clamp(0, 1)
    filled = latent.to(dtype) * (1 - weight)
    if noise is not None:
        filled = filled + noise.to(dtype) * weight
    return filled.to(latent.dtype)
