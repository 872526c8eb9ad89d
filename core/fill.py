"""A1111's "masked content" options: fill (in pixels, before encoding), latent noise and latent nothing."""

import numpy as np
import torch
from PIL import Image, ImageFilter

# A1111's fill: the unmasked picture blurred ever less, each layer composited over the last
# (radius, how many times).
_FILL_LAYERS = ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1))


def _to_8bit(x: torch.Tensor) -> np.ndarray:
    return (x.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


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
    filled = np.stack([_fill_one(rgb, m) for rgb, m in zip(_to_8bit(image), _to_8bit(masks), strict=True)])
    filled = torch.from_numpy(filled).to(device=image.device, dtype=image.dtype) / 255
    return torch.where((masks == 0).unsqueeze(-1).to(image.device), image, filled)


def fill_masked_latent(latent: torch.Tensor, latent_mask: torch.Tensor, noise: torch.Tensor | None = None):
    """Replace the masked part of a model-space latent [B,C,...] by `noise` ("latent noise") or by zeros
    ("latent nothing"), in proportion to `latent_mask` ([B or 1, 1, ...], 0-1), as A1111 does."""
    if latent_mask.ndim != latent.ndim or latent_mask.shape[2:] != latent.shape[2:] or latent_mask.shape[1] != 1:
        raise ValueError(f"latent_mask must be [B,1,...] matching the latent {tuple(latent.shape)}, "
                         f"got {tuple(latent_mask.shape)}")
    keep = latent * (1 - latent_mask)
    return keep if noise is None else keep + noise * latent_mask
