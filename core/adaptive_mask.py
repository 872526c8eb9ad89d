"""Stage two of soft inpainting: where the latent barely changed, bring the original pixels back."""

import numpy as np
import torch
from PIL import Image, ImageFilter

from .histogram_filter import checked_passes, gaussian_kernel
from .precision import channel_length, wide_float
from .settings import SoftInpaintSettings, check_settings
from .tensor_checks import all_finite, check_images, check_size, check_tensor, unit_mask, working_dtype

# A1111's smoothing of the latent distance map: a soft maximum, then a median-like band.
_KERNEL, _KERNEL_CENTER = gaussian_kernel(stddev_radius=1.5, max_radius=2)
_FILTER_PASSES = ((0.9, 1.0, 1.0), (0.25, 0.75, 1.0))  # percentile band and its minimum width
_PIXEL_MASK_BLUR_RADIUS = 4
# Bound on the latent elements whose difference is held at once.
_DISTANCE_ELEMENTS_PER_CHUNK = 1 << 22


def _smootherstep(x: torch.Tensor) -> torch.Tensor:
    # Clamped: near x = 1 the rounded polynomial can overshoot 1 by an ulp.
    return (x * x * x * (x * (6 * x - 15) + 10)).clamp(0, 1)


def smootherstep(x: torch.Tensor) -> torch.Tensor:
    """6x^5 - 15x^4 + 10x^3: an S-curve on [0, 1] flat at both ends, so x outside 0-1 is clamped to it.
    Computed in float32 or wider; returns x's dtype."""
    check_tensor(x, "smootherstep: 'x'")
    return _smootherstep(x.to(working_dtype(x.dtype)).clamp(0, 1)).to(x.dtype)


def _first_channel_mask(nmask, latent_ndim: int) -> torch.Tensor:
    """The checked inpaint mask, first channel only, clamped to 0-1: [B,h,w], or [B,T,h,w] for video."""
    if isinstance(nmask, torch.Tensor) and nmask.ndim == latent_ndim and nmask.numel():
        nmask = nmask[:, 0]
    mask = unit_mask(nmask, "nmask")
    if mask.ndim != latent_ndim - 1:
        layout = "[B,h,w] or [B,C,h,w]" if latent_ndim == 4 else "[B,T,h,w] or [B,C,T,h,w]"
        raise ValueError(f"nmask must be {layout} for these latents, got shape {tuple(nmask.shape)}")
    return mask


def _check_latent_pair(latent_orig, latent_processed) -> None:
    check_tensor(latent_orig, "latent_orig")
    check_tensor(latent_processed, "latent_processed")
    if latent_orig.ndim not in (4, 5) or latent_processed.ndim not in (4, 5):
        raise ValueError(
            "latent_orig and latent_processed must be [B,C,h,w] or video [B,C,T,h,w], got "
            f"{tuple(latent_orig.shape)} and {tuple(latent_processed.shape)}"
        )
    if latent_orig.shape[1:] != latent_processed.shape[1:]:
        raise ValueError(
            f"latent_orig {tuple(latent_orig.shape)} and latent_processed {tuple(latent_processed.shape)} "
            "differ in channels, frames or size"
        )


def _check_mask_fits(mask, latent_orig, latent_processed) -> None:
    batch = max(latent_orig.shape[0], latent_processed.shape[0])
    for name, size in (("latent_orig", latent_orig.shape[0]), ("latent_processed", latent_processed.shape[0]),
                       ("nmask", mask.shape[0])):
        if size not in (1, batch):
            raise ValueError(f"{name} has batch {size}; expected 1 or {batch}")
    if mask.shape[1:] != latent_orig.shape[2:]:
        raise ValueError(
            f"nmask is {tuple(mask.shape[1:])} but the latents are {tuple(latent_orig.shape[2:])}; "
            "resize the mask to the latent size (and frame count) first"
        )


def _distance(latent_orig, latent_processed) -> torch.Tensor:
    """Length of the change over the channels per latent pixel, float32 [B,h,w] or [B,T,h,w].

    In float32 or wider (a float16 distance overflows for latents of 6e4); the length is then held in
    float32: beyond its range it is float32's largest, below it 0. Videos a few frames at a time, so that
    no float32 copy of a whole video latent is made."""
    work = working_dtype(torch.promote_types(latent_orig.dtype, latent_processed.dtype))

    def norm(orig, processed):
        difference = processed.detach().to(work) - orig.detach().to(work)
        return channel_length(difference, work)[:, 0].float().clamp_(max=torch.finfo(torch.float32).max)

    if latent_orig.ndim == 4:
        return norm(latent_orig, latent_processed)
    batch = max(latent_orig.shape[0], latent_processed.shape[0])
    channels, frames, height, width = latent_orig.shape[1:]
    step = max(1, _DISTANCE_ELEMENTS_PER_CHUNK // (batch * channels * height * width))
    return torch.cat([norm(latent_orig[:, :, t: t + step], latent_processed[:, :, t: t + step])
                      for t in range(0, frames, step)], dim=1)


def _distance_threshold(latent_mask: torch.Tensor, settings: SoftInpaintSettings) -> torch.Tensor | float:
    """The latent distance at which the original's opacity falls to 50%, per latent pixel; one number when
    the mask has no influence (the default), which saves a power and a handful of passes over the map."""
    if settings.mask_influence == 0:
        return settings.difference_threshold * 0.5 / (1.00001 - 0.5)
    bias = 1 - latent_mask ** (settings.preservation_strength / 2)
    bias = 0.5 * (1 - settings.mask_influence) + bias * settings.mask_influence
    bias = bias / (1.00001 - bias)
    return settings.difference_threshold * bias


def adaptive_latent_mask(
    nmask: torch.Tensor,
    latent_orig: torch.Tensor,
    latent_processed: torch.Tensor,
    settings: SoftInpaintSettings,
) -> torch.Tensor:
    """How much of the inpainted result to keep per latent pixel, [B,h,w] in 0-1 (1 = inpainted).

    `nmask` is the inpaint mask at latent size ([B,h,w] or [B,C,h,w], first channel used; batch 1 or B).
    Video latents [B,C,T,h,w] take a mask [B,T,h,w] or [B,C,T,h,w] and give [B,T,h,w]: each frame is
    what that frame alone would give as an image (the smoothing filter is spatial only).
    Distances are measured in the latent space the sampler works in (for SD, the scaled latent).
    Where nothing changed and the threshold is 0, the original is kept (0/0 counts as no change).
    """
    _check_latent_pair(latent_orig, latent_processed)
    latent_mask = _first_channel_mask(nmask, latent_orig.ndim)
    _check_mask_fits(latent_mask, latent_orig, latent_processed)
    check_settings(settings, "adaptive_latent_mask: settings")

    distance = _distance(latent_orig, latent_processed)
    frames = distance.reshape(-1, *distance.shape[-2:])  # video frames are filtered one by one, spatially
    distance = checked_passes(frames, _KERNEL, (_KERNEL_CENTER,) * 2, _FILTER_PASSES).reshape(distance.shape)

    # The ratio in the wide type: in float32 a threshold of 1e-300 is 0, and 0 / 0 NaN.
    wide = wide_float(distance.device)
    threshold = _distance_threshold(latent_mask.to(wide), settings)
    distance = distance.to(wide)
    ratio = torch.where(distance == 0, 0.0, distance / threshold)  # where the threshold is 0, 0/0 is no change
    keep_original = _smootherstep(1 / (1 + ratio ** settings.difference_contrast))
    return (1 - keep_original).float()


def pixel_composite_mask(latent_mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Scale a latent mask [B,h,w] to pixels as A1111 does: to 8 bits, Lanczos, Gaussian blur radius 4.

    Returns float32 [B,height,width] in 0-1 on the mask's device.
    """
    if isinstance(latent_mask, torch.Tensor) and latent_mask.ndim != 3:
        raise ValueError(f"latent_mask must be [B,h,w], got shape {tuple(latent_mask.shape)}")
    height, width = check_size(height, "height"), check_size(width, "width")
    # Truncated to 8 bits as A1111 does (no rounding).
    levels = (unit_mask(latent_mask, "latent_mask").float() * 255).to(torch.uint8).cpu().numpy()
    blur = ImageFilter.GaussianBlur(radius=_PIXEL_MASK_BLUR_RADIUS)
    pixels = np.empty((len(levels), height, width), dtype=np.float32)
    for sample, level in zip(pixels, levels, strict=True):
        image = Image.fromarray(level).resize((width, height), Image.LANCZOS).filter(blur)
        np.divide(np.asarray(image), np.float32(255), out=sample, dtype=np.float32)
    return torch.from_numpy(pixels).to(latent_mask.device)


def composite(original: torch.Tensor, inpainted: torch.Tensor, pixel_mask: torch.Tensor) -> torch.Tensor:
    """Blend ComfyUI images [B,H,W,C]: `original` where the mask is 0, `inpainted` where it is 1 (exactly).

    Batches of 1 broadcast against batches of B; the mask is [B,H,W] or [H,W].
    """
    check_images(original, "original")
    check_images(inpainted, "inpainted")
    if original.shape[1:] != inpainted.shape[1:]:
        raise ValueError(
            f"original {tuple(original.shape)} and inpainted {tuple(inpainted.shape)} differ in size or channels"
        )
    mask = unit_mask(pixel_mask, "pixel_mask")
    mask = mask if mask.ndim == 3 else mask.reshape(1, *mask.shape)
    if mask.ndim != 3 or mask.shape[1:] != original.shape[1:3]:
        raise ValueError(
            f"pixel_mask must be [B,H,W] with H,W = {tuple(original.shape[1:3])}, got {tuple(pixel_mask.shape)}"
        )
    batch = max(original.shape[0], inpainted.shape[0], mask.shape[0])
    sizes = {"original": original.shape[0], "inpainted": inpainted.shape[0], "pixel_mask": mask.shape[0]}
    for name, size in sizes.items():
        if size not in (1, batch):
            raise ValueError(f"{name} has batch {size}; expected 1 or {batch}")
    dtype = torch.promote_types(original.dtype, inpainted.dtype)
    work = working_dtype(dtype)
    weight = mask.to(device=original.device, dtype=work).unsqueeze(-1)
    original, inpainted = original.to(work), inpainted.to(device=original.device, dtype=work)
    blended = torch.lerp(original, inpainted, weight)  # o or i exactly where m is 0 or 1
    if not all_finite(blended):  # i - o overflowed: values near the type's largest
        blended = original * (1 - weight) + inpainted * weight
    return blended.to(dtype)
