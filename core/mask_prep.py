"""A1111's mask options: rounding, invert, and its Gaussian mask blur in x and y."""

import torch
import torch.nn.functional as F

from .tensor_checks import check_range, result_dtype, unit_mask

# A1111 binarises its 8-bit mask at > 128.
_ROUNDING_THRESHOLD = 128 / 255
# The largest blur sigma (a kernel of 1281 taps), four times where A1111's slider and the node stop.
MAX_BLUR_SIGMA = 256.0


def blur_kernel(sigma: float, dtype=torch.float64, device=None) -> torch.Tensor:
    """A1111's 1-D blur kernel: OpenCV's Gaussian of size 2*int(2.5*sigma + 0.5) + 1, summing to 1.
    `sigma` is in (0, MAX_BLUR_SIGMA]."""
    sigma = check_range(sigma, "blur sigma", 0, MAX_BLUR_SIGMA, low_open=True)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"blur_kernel: dtype must be a float torch.dtype, got {dtype!r}")
    try:
        device = None if device is None else torch.device(device)
    except (RuntimeError, TypeError):
        raise TypeError(f"blur_kernel: device must be a torch.device or its name, got {device!r}") from None
    radius = int(2.5 * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    # Offsets over sigma first: a sigma below 1e-162 squares to 0, and 0/0 at the centre is NaN.
    kernel = torch.exp(-((offsets / sigma) ** 2) / 2)
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
    padded = x[..., _reflect101(x.shape[-1], kernel.numel() // 2, x.device)]
    # A convolution (the kernel is symmetric): a matmul over the unfolded rows took seconds for wide kernels.
    rows = F.conv1d(padded.reshape(-1, 1, padded.shape[-1]), kernel.view(1, 1, -1))
    return rows.reshape(x.shape)


def _checked_mask(mask, blur_x, blur_y) -> tuple[torch.Tensor, float, float]:
    """The mask clamped to 0-1 in float32 or wider, and the two blur sigmas, checked."""
    if isinstance(mask, torch.Tensor) and mask.ndim < 2:
        raise ValueError(f"mask must be at least [H,W], got shape {tuple(mask.shape)}")
    unit = unit_mask(mask, "mask")
    return unit, check_range(blur_x, "blur_x", 0, MAX_BLUR_SIGMA), check_range(blur_y, "blur_y", 0, MAX_BLUR_SIGMA)


def _blur(mask: torch.Tensor, blur_x: float, blur_y: float) -> torch.Tensor:
    if blur_x > 0:
        mask = _blur_last_axis(mask, blur_x)
    if blur_y > 0:
        mask = _blur_last_axis(mask.transpose(-1, -2), blur_y).transpose(-1, -2)
    return mask.clamp(0, 1)


def blur_mask(mask: torch.Tensor, blur_x: float, blur_y: float) -> torch.Tensor:
    """Blur [..., H, W] masks as A1111 does: a horizontal Gaussian of sigma `blur_x`, then a vertical one
    of sigma `blur_y` (0 skips an axis; at most MAX_BLUR_SIGMA). The mask (float or bool) is clamped to 0-1
    and blurred in float32 or wider, without A1111's 8-bit rounding; returns its dtype (bool: float32)."""
    unit, blur_x, blur_y = _checked_mask(mask, blur_x, blur_y)
    return _blur(unit, blur_x, blur_y).to(result_dtype(mask.dtype))


def prepare_mask(mask: torch.Tensor, blur_x: float = 0.0, blur_y: float = 0.0, rounding: bool = False,
                 invert: bool = False) -> torch.Tensor:
    """A1111's order: binarise (if `rounding`), invert, then blur. Masks are [..., H, W], clamped to 0-1;
    returns the mask's dtype (bool: float32)."""
    out, blur_x, blur_y = _checked_mask(mask, blur_x, blur_y)
    if rounding:
        out = (out > _ROUNDING_THRESHOLD).to(out.dtype)
    if invert:
        out = 1 - out
    return _blur(out, blur_x, blur_y).to(result_dtype(mask.dtype))
