"""Input declarations and checks shared by the nodes."""

import comfy.utils
import torch
from comfy_api.latest import io

from ..core import PARAMETERS

SoftMaskScheduleType = io.Custom("SOFT_MASK_SCHEDULE")


def parameter_input(name: str) -> io.Float.Input:
    """A float widget for one soft-inpainting parameter, with A1111's default, range and step."""
    spec = PARAMETERS[name]
    return io.Float.Input(
        name, default=spec.default, min=spec.minimum, max=spec.maximum, step=spec.step, tooltip=spec.tooltip
    )


def noise_multiplier_input() -> io.Float.Input:
    return io.Float.Input(
        "initial_noise_multiplier", default=1.0, min=0.0, max=1.5, step=0.01, optional=True,
        tooltip="A1111's initial noise multiplier: scales the starting noise. Below 1 keeps more of the "
        "original's structure at high denoise.",
    )


def checked_mask(mask: torch.Tensor, batch: int, input_name: str = "mask") -> torch.Tensor:
    """A ComfyUI MASK ([H,W] or [B,H,W], values 0-1, any pixel size) as [1 or batch, 1, H, W]."""
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"{input_name}: expected a MASK tensor, got {type(mask).__name__}")
    if mask.ndim == 4 and mask.shape[1] == 1:  # the layout SetLatentNoiseMask stores
        mask = mask[:, 0]
    if mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if mask.ndim != 3:
        raise ValueError(f"{input_name} must be [H,W] or [B,H,W], got shape {tuple(mask.shape)}")
    if mask.shape[0] not in (1, batch):
        raise ValueError(
            f"{input_name} has a batch of {mask.shape[0]} but the latent has {batch}: give one mask, or one per sample"
        )
    if mask.numel() == 0 or not torch.isfinite(mask).all() or mask.min() < 0 or mask.max() > 1:
        raise ValueError(f"{input_name} must hold finite values from 0 to 1")
    return mask.unsqueeze(1)


def resized_mask(mask: torch.Tensor, batch: int, height: int, width: int) -> torch.Tensor:
    """A checked mask resized to height x width as ComfyUI resizes noise masks: [batch, 1, height, width]."""
    return comfy.utils.reshape_mask(mask, (batch, 1, height, width))


def mask_per_sample(mask: torch.Tensor, batch: int, size, what: str) -> torch.Tensor:
    """A MASK as [batch,H,W], one per sample, that must already be `size` (H, W) pixels."""
    masks = checked_mask(mask, batch)[:, 0].expand(batch, -1, -1)
    if masks.shape[1:] != tuple(size):
        raise ValueError(f"mask is {tuple(masks.shape[1:])} but {what} {tuple(size)}")
    return masks
