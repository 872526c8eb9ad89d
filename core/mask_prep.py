"""A1111's mask options: rounding, invert, and its Gaussian mask blur in x and y."""

import math

import torch

# A1111 binarises its 8-bit mask at > 128.
_ROUNDING_THRESHOLD = 128 / 255


def blur_kernel(sigma: float, dtype=torch.float64, device=None) -> torch.Tensor:
    """A1111's 1-D blur kernel: OpenCV's Gaussian of size 2*int(2.5*sigma + 0.5) + 1, summing to 1."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"blur sigma must be a finite number > 0, got {sigma}")
    radius = int(2.5 * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(offsets**2) / (2 * sigma * sigma))
    return (kernel / kernel.sum()).to(device=device, dtype=dtype)


def _reflect101(size: int, pad: int, device) -> torch.Tensor:
    """Source indices for a row padded by `pad` on both sides, mirrored without repeating the edge
    (OpenCV's default border), for any pad however large."""
    index = torch.arange(-pad, size + pad, device=device)
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = index.remainder(period)
    return torch.where(index >= size, period - index, index)


def _blur_last_axis(x: torch.Tensor, sigma: float) -> torch.Tensor:
    kernel = blur_kernel(sigma, dtype=x.dtype, device=x.device)
    pad = kernel.numel() // 2
    padded = x[..., _reflect101(x.shape[-1], pad, x.device)]
    return padded.unfold(-1, kernel.numel(), 1) @ kernel


def blur_mask(mask: torch.Tensor, blur_x: float, blur_y: float) -> torch.Tensor:
    """Blur [..., H, W] masks as A1111 does: a horizontal Gaussian of sigma `blur_x`, then a vertical one
    of sigma `blur_y` (0 skips an axis). Computed in float, without A1111's 8-bit rounding."""
    for name, value in (("blur_x", blur_x), ("blur_y", blur_y)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    out = mask if mask.is_floating_point() else mask.float()
    if blur_x > 0:
        out = _blur_last_axis(out, blur_x)
    if blur_y > 0:
        out = _blur_last_axis(out.transpose(-1, -2), blur_y).transpose(-1, -2)
    return out.clamp(0, 1)


def prepare_mask(mask: torch.Tensor, blur_x: float = 0.0, blur_y: float = 0.0, rounding: bool = False,
                 invert: bool = False) -> torch.Tensor:
    """A1111's order: binarise (if `rounding`), invert, then blur. Masks are 0-1, [..., H, W]."""
    if mask.ndim < 2:
        raise ValueError(f"mask must be at least [H,W], got shape {tuple(mask.shape)}")
    out = mask
    if rounding:
        out = (out > _ROUNDING_THRESHOLD).to(mask.dtype)
    if invert:
        out = 1 - out
    return blur_mask(out, blur_x, blur_y)
