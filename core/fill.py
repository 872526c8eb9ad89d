"""A1111's "masked content" options: fill (in pixels, before encoding), latent noise and latent nothing."""

import numpy as np
import torch
from PIL import Image, ImageFilter

from .latent_mask import mask_to_8bit
from .tensor_checks import all_finite, check_layout, check_tensor, unit_mask, working_dtype

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
    "fill"). `mask` is [B or 1,H,W], float (clamped to 0-1) or bool; where it is 0 the pixels are returned
    untouched. Returns the image's dtype."""
    check_layout(image, "image", 4, "[B,H,W,3]")
    if image.shape[-1] != 3:
        raise ValueError(f"image must be [B,H,W,3], got shape {tuple(image.shape)}")
    check_tensor(image, "image")
    check_layout(mask, "mask", 3, f"[1 or {image.shape[0]},H,W]")
    if mask.shape[1:] != image.shape[1:3] or mask.shape[0] not in (1, image.shape[0]):
        raise ValueError(f"mask must be [1 or {image.shape[0]},H,W] with H,W = {tuple(image.shape[1:3])}, "
                         f"got {tuple(mask.shape)}")
    masks = unit_mask(mask, "mask").expand(image.shape[0], -1, -1)
    filled = np.stack([_fill_one(rgb, m) for rgb, m in zip(mask_to_8bit(image), mask_to_8bit(masks), strict=True)])
    filled = torch.from_numpy(filled).to(device=image.device, dtype=image.dtype) / 255
    return torch.where((masks == 0).unsqueeze(-1).to(image.device), image, filled)


def _check_latent_fill(latent, latent_mask, noise) -> torch.Tensor:
    """The checked latent_mask, clamped to 0-1."""
    check_tensor(latent, "latent")
    if latent.ndim < 3:
        raise ValueError(f"latent must be [B,C,...], got shape {tuple(latent.shape)}")
    expected = f"[1 or {latent.shape[0]}, 1, {', '.join(map(str, latent.shape[2:]))}]"
    check_layout(latent_mask, "latent_mask", latent.ndim, expected, device=latent.device)
    if latent_mask.shape[1] != 1 or latent_mask.shape[2:] != latent.shape[2:] \
            or latent_mask.shape[0] not in (1, latent.shape[0]):
        raise ValueError(f"latent_mask must be {expected} for the latent {tuple(latent.shape)}, "
                         f"got {tuple(latent_mask.shape)}")
    if noise is not None:
        check_layout(noise, "noise", latent.ndim, f"shaped like the latent {tuple(latent.shape)}", device=latent.device)
        if noise.shape != latent.shape:
            raise ValueError(f"noise must have the latent's shape {tuple(latent.shape)}, got {tuple(noise.shape)}")
        check_tensor(noise, "noise")
    return unit_mask(latent_mask, "latent_mask")


def fill_masked_latent(latent: torch.Tensor, latent_mask: torch.Tensor, noise: torch.Tensor | None = None):
    """Replace the masked part of a model-space latent [B,C,...] by `noise` ("latent noise") or by zeros
    ("latent nothing"), in proportion to `latent_mask` ([B or 1, 1, ...]; bools, or floats clamped to 0-1),
    as A1111 does. Computed in at least float32 (or the noise's wider type); returns the latent's dtype,
    or raises ValueError if the result does not fit it."""
    weight = _check_latent_fill(latent, latent_mask, noise)
    dtype = working_dtype(latent.dtype if noise is None else torch.promote_types(latent.dtype, noise.dtype))
    weight = weight.to(dtype)
    filled = latent.to(dtype) * (1 - weight)
    if noise is not None:
        filled = filled + noise.to(dtype) * weight
    filled = filled.to(latent.dtype)
    if not all_finite(filled):
        raise ValueError(f"fill_masked_latent: the fill of latent with noise overflows {latent.dtype}: the noise's "
                         "values are too large for the latent's dtype")
    return filled
