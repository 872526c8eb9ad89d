"""The wide float type used for sums and large exponents."""

import torch


def wide_float(device: torch.device) -> torch.dtype:
    """float64 where the device supports it; Apple's MPS has no float64, so float32 there."""
    return torch.float32 if torch.device(device).type == "mps" else torch.float64
