"""The wide float type used for sums and large exponents, and lengths that neither over- nor underflow."""

import math

import torch


def wide_float(device: torch.device) -> torch.dtype:
    """float64 where the device supports it; Apple's MPS has no float64, so float32 there."""
    return torch.float32 if torch.device(device).type == "mps" else torch.float64


def channel_length(x: torch.Tensor, dtype: torch.dtype, log: bool = False) -> torch.Tensor:
    """The length of `x` over its channels (dim 1, kept), in `dtype`; `log`: its natural log, which stays
    finite where the length passes the type's largest value. Plain where the squares of x's type fit
    `dtype` (float32 or narrower in float64); else scaled by the largest component first, as squares of
    float32 beyond 2e19 overflow and below 1e-19 vanish. An inf in `x` gives an inf length."""
    if 2 * math.log2(torch.finfo(x.dtype).max) < math.log2(torch.finfo(dtype).max):
        length = torch.linalg.vector_norm(x, dim=1, keepdim=True, dtype=dtype)
        return length.log_() if log else length
    x = x.detach().to(dtype)
    largest = x.abs().amax(dim=1, keepdim=True).clamp_min_(torch.finfo(dtype).tiny)
    squares = (x / largest).square_().sum(dim=1, keepdim=True)
    if log:
        return squares.log_().div_(2).add_(largest.log())
    return squares.sqrt_().mul_(largest).nan_to_num_(nan=math.inf)  # inf / inf where x overflowed
