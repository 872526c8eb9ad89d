"""Input declarations and checks shared by the nodes."""

import comfy.utils
import torch
from comfy_api.latest import io

from ..core import PARAMETERS, latent_mask
from ..core.frames import frames_per_latent_frame
from ..core.picture_batch import in_format_layout, is_picture_batch

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


def checked_mask(mask: torch.Tensor, batch: int | None, input_name: str = "mask") -> torch.Tensor:
    """A ComfyUI MASK ([H,W], [B,H,W] or [B,1,H,W]; float or bool; any pixel size) as float [1 or batch, 1, H, W]
    (any batch when `batch` is None), clamped to 0-1: resampled masks overshoot by a little."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{input_name}: expected a MASK tensor, got {type(mask).__name__}")
    if mask.ndim == 4 and mask.shape[1] == 1:  # the layout SetLatentNoiseMask stores
        mask = mask[:, 0]
    if mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if mask.ndim != 3:
        raise ValueError(f"{input_name} must be [H,W], [B,H,W] or [B,1,H,W], got shape {tuple(mask.shape)}")
    if mask.numel() == 0:
        raise ValueError(f"{input_name} is empty (shape {tuple(mask.shape)})")
    if batch is not None and mask.shape[0] not in (1, batch):
        raise ValueError(
            f"{input_name} has a batch of {mask.shape[0]} but the latent has {batch}: give one mask, or one per sample"
        )
    mask = mask.float()
    if not torch.isfinite(mask).all():
        raise ValueError(f"{input_name} holds NaN or infinite values")
    return mask.clamp(0, 1).unsqueeze(1)


def checked_mask_for(mask, samples: torch.Tensor, input_name: str = "mask") -> torch.Tensor:
    """checked_mask for a latent: one mask per sample of an image latent; a video latent [B,C,T,h,w] takes
    the MASK's batch as frames (as ComfyUI's reshape_mask does), one set for every sample, unless it is a batch
    of pictures (one latent frame, one mask or one per sample: core.picture_batch). A noise mask [1,1,T,H,W]
    or [B,1,1,H,W] (what the soft sampler leaves on its output latent) gives its frames or samples."""
    if samples.ndim == 4:
        return checked_mask(mask, samples.shape[0], input_name)
    if isinstance(mask, torch.Tensor) and mask.ndim == 5 and mask.shape[1] == 1 and 1 in mask.shape[::2]:
        mask = mask.flatten(0, 2)
    return checked_mask(mask, None, input_name)


def temporal_ratio_of(latent_format) -> int | None:
    """The temporal compression the model's latent format reports (newer ComfyUIs; 1 there also means
    "not given"), or None: the frame mapping is then inferred from the frame counts."""
    ratio = getattr(latent_format, "temporal_downscale_ratio", None)
    return ratio if isinstance(ratio, int) and ratio > 1 else None


def as_sampled(latent: torch.Tensor, latent_format) -> torch.Tensor:
    """The latent in the layout the model samples it in: a picture latent of a model with a video latent format
    (Qwen-Image) gets its frame axis, as ComfyUI's sampler gives it (latent_dimensions, where reported)."""
    return in_format_layout(latent, getattr(latent_format, "latent_dimensions", 2))


def mask_for_latent(mask: torch.Tensor, shape, ratio: int | None = None) -> torch.Tensor:
    """A1111's latent mask of a checked pixel mask for a latent of `shape`: [B,1,h,w] for an image latent
    [B,C,h,w], [B,1,T,h,w] for a video latent [B,C,T,h,w].

    A video mask's frames ([F,1,H,W]) are one frame for all, one per latent frame, or the pixel frames: each
    latent frame then takes the union of the frames it is encoded from (core.frames; `ratio` is the temporal
    compression when known, else inferred from F and T). A picture whose size is not a multiple of the
    latent scale was cropped, centred, by the VAE encoder (ComfyUI's way); the mask is cropped alike first
    so that it lines up with the latent.
    """
    return latent_mask_from(pixel_masks_for(mask, shape, ratio), shape)


def pixel_masks_for(mask: torch.Tensor, shape, ratio: int | None = None) -> torch.Tensor:
    """The pixel masks [N,H,W] that a latent of `shape` takes its masks from: per sample (N = 1 or B) for a
    batch of pictures, per latent frame (N = T) for a video latent. Checks that the mask fits the latent."""
    if not is_picture_batch(shape, mask.shape[0]):
        return _frames_per_latent_frame(mask[:, 0], shape[2], ratio)
    if mask.shape[0] not in (1, shape[0]):
        raise ValueError(f"mask has a batch of {mask.shape[0]} but the latent has {shape[0]}")
    return mask[:, 0]


def latent_mask_from(pixels: torch.Tensor, shape) -> torch.Tensor:
    """A1111's latent mask of pixel_masks_for's masks, laid out for the latent (per_latent)."""
    return per_latent(_latent_mask_of(pixels, *shape[-2:]), shape)


def per_latent(masks: torch.Tensor, shape) -> torch.Tensor:
    """Latent-size masks [N,h,w] (per sample, or per latent frame) as [B,1,h,w] or [B,1,T,h,w] (views)."""
    if not is_picture_batch(shape, masks.shape[0]):
        return masks[None, None].expand(shape[0], -1, -1, -1, -1)
    if len(shape) == 5:
        return masks[:, None, None].expand(shape[0], -1, -1, -1, -1)
    return masks[:, None].expand(shape[0], -1, -1, -1)


def _frames_per_latent_frame(masks: torch.Tensor, latent_frames: int, ratio: int | None) -> torch.Tensor:
    try:
        return frames_per_latent_frame(masks, latent_frames, ratio)
    except ValueError as error:
        raise ValueError(f"mask: {error}. Give one frame, one per latent frame ({latent_frames}) or one per "
                         "frame of the video") from None


def _latent_mask_of(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """latent_mask of [N,H,W] pixel masks, centre-cropped first as the VAE encoder crops odd sizes."""
    scale = max(1, round(pixels.shape[-2] / height))
    if (pixels.shape[-2] // scale, pixels.shape[-1] // scale) == (height, width):
        pixels = centre_crop(pixels, height * scale, width * scale)
    return latent_mask(pixels, height, width)


def centre_crop(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The centred height x width part of [B,H,W,...] pictures, as ComfyUI's VAE encoder crops odd sizes."""
    top, left = (images.shape[1] - height) // 2, (images.shape[2] - width) // 2
    return images[:, top:top + height, left:left + width]


def resized_mask(mask: torch.Tensor, batch: int, height: int, width: int) -> torch.Tensor:
    """A checked mask resized to height x width as ComfyUI resizes noise masks: [batch, 1, height, width]."""
    return comfy.utils.reshape_mask(mask, (batch, 1, height, width))


def mask_per_sample(mask: torch.Tensor, batch: int, size, what: str) -> torch.Tensor:
    """A MASK as [batch,H,W], one per sample, that must already be `size` (H, W) pixels."""
    masks = checked_mask(mask, batch)[:, 0].expand(batch, -1, -1)
    if masks.shape[1:] != tuple(size):
        raise ValueError(f"mask is {tuple(masks.shape[1:])} but {what} {tuple(size)}")
    return masks
