"""The pack's own ComfyUI types, and what the soft sampler's output latent carries to the composite."""

from dataclasses import dataclass, field

import torch
from comfy_api.latest import io

from ..core import SoftInpaintSettings
from ..core.picture_batch import in_format_layout

SoftMaskScheduleType = io.Custom("SOFT_MASK_SCHEDULE")
SoftInpaintCropType = io.Custom("SOFT_INPAINT_CROP")  # its values are core.Crops

SIGMA_SPACES = ("sd", "raw")
# The LATENT key under which the soft sampler leaves a SoftSampled for the composite.
SOFT_SAMPLED_KEY = "soft_inpainting"


@dataclass(frozen=True)
class SoftSchedule:
    """The SOFT_MASK_SCHEDULE value: the blend settings and how sigmas are read.

    sigma_space "sd" turns a flow model's sigma into the equivalent SD noise level, so the schedule
    means the same for every model family; "raw" feeds the model's sigma as it is (A1111 exactly).
    """

    settings: SoftInpaintSettings = field(default_factory=SoftInpaintSettings)
    sigma_space: str = "sd"

    def __post_init__(self):
        if self.sigma_space not in SIGMA_SPACES:
            raise ValueError(f"sigma_space must be one of {SIGMA_SPACES}, got {self.sigma_space!r}")


@dataclass(frozen=True)
class SoftSampled:
    """What the Adaptive Difference Composite needs from a soft sampler run, beyond the inpainted latent."""

    original: torch.Tensor  # the latent the run started from
    latent_mask: torch.Tensor  # A1111's latent mask the run blended by, [B,1,h,w] or [B,1,T,h,w]
    schedule: SoftSchedule
    latent_format: object  # the model's comfy.latent_formats.LatentFormat


def soft_sampled(latent: dict) -> SoftSampled | None:
    return latent.get(SOFT_SAMPLED_KEY)


def as_sampled(latent: torch.Tensor, latent_format) -> torch.Tensor:
    """The latent in the layout the model samples it in: a picture latent of a model with a video latent format
    (Qwen-Image) gets its frame axis, as ComfyUI's sampler gives it (latent_dimensions, where reported)."""
    return in_format_layout(latent, getattr(latent_format, "latent_dimensions", 2))


def temporal_compression(latent_format) -> int | None:
    """The temporal compression the model's latent format reports (newer ComfyUIs; 1 there also means
    "not given"), or None: the frame mapping is then inferred from the frame counts."""
    ratio = getattr(latent_format, "temporal_downscale_ratio", None)
    return ratio if isinstance(ratio, int) and ratio > 1 else None
