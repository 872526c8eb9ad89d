"""Step 2 of the picture's way through: from the painted pixel mask to the masks sampling works with.

A picture latent [B,C,h,w] takes one mask per sample (or one for all); a video latent [B,C,T,h,w] takes
its masks per frame: one frame for all, one per latent frame, or one per pixel frame (mapped to latent
frames by core.frames). A picture whose size is not a multiple of the latent scale was cropped, centred,
by the VAE encoder (ComfyUI's way), so its mask is cropped alike before it is resized.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .frames import frames_as_channels, frames_per_latent_frame, temporal_ratio
from .latent_mask import conditioning_mask, latent_mask
from .picture_batch import is_picture_batch
from .tensor_checks import check_layout, check_tensor, unit_mask

_LAYOUTS = "[H,W], [B,H,W] or [B,1,H,W]"


@dataclass(frozen=True)
class InpaintMasks:
    """The masks of one sampler run, laid out for the latent: [B,1,h,w], or [B,1,T,h,w] for a video.

    `blend` is A1111's latent mask (every step blends by it; the composite biases its threshold by it);
    `model` is the mask channel A1111 gives an inpainting model (nearest-resized, unrounded)."""

    blend: torch.Tensor
    model: torch.Tensor

    def to(self, device) -> "InpaintMasks":
        return InpaintMasks(self.blend.to(device), self.model.to(device))


def mask_batch(mask, name: str = "mask", batch: int | None = None, batch_of: str = "the latent") -> torch.Tensor:
    """A mask in one of ComfyUI's MASK layouts ([H,W], [B,H,W], [B,1,H,W], or the noise mask a soft sampler
    leaves on its latent: a video's [1,1,T,H,W], pictures' [B,1,1,H,W]) as checked masks [N,H,W] clamped to
    0-1 (resampled masks overshoot a little), in float32 as ComfyUI's masks are. With `batch` (of
    `batch_of`), N must be 1 or `batch`."""
    check_tensor(mask, name, allow_bool=True)
    if mask.ndim == 5 and mask.shape[1] == 1 and 1 in (mask.shape[0], mask.shape[2]):
        mask = mask.flatten(0, 2)  # a video's frames [1,1,T,H,W], or pictures' [B,1,1,H,W]
    if mask.ndim == 4 and mask.shape[1] == 1:
        mask = mask[:, 0]
    if mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if mask.ndim != 3:
        raise ValueError(f"{name} must be {_LAYOUTS}, got shape {tuple(mask.shape)}")
    if batch is not None and mask.shape[0] not in (1, batch):
        raise ValueError(f"{name} has a batch of {mask.shape[0]} but {batch_of} has {batch}: give one mask, "
                         "or one per sample")
    return unit_mask(mask, name).float()


def masks_for_latent(mask, latent_shape, temporal_ratio: int | None = None, name: str = "mask") -> InpaintMasks:
    """A1111's masks for a latent of `latent_shape` from a pixel mask in any MASK layout (mask_batch).

    For a video latent, `temporal_ratio` is the VAE's temporal compression where the model reports it;
    otherwise it is inferred from the frame counts."""
    shape = _checked_latent_shape(latent_shape)
    pixels = mask_batch(mask, name)
    video = not is_picture_batch(shape, pixels.shape[0])
    if video:
        pixels = _per_latent_frame(pixels, shape[2], temporal_ratio, name)
    elif pixels.shape[0] not in (1, shape[0]):
        raise ValueError(f"{name} has a batch of {pixels.shape[0]} but the latent has {shape[0]}: give one mask, "
                         "or one per sample")
    pixels = _encoder_crop(pixels, *shape[-2:])
    return InpaintMasks(
        _laid_out(latent_mask(pixels, *shape[-2:]), shape, video),
        _laid_out(conditioning_mask(pixels, *shape[-2:])[:, 0], shape, video),
    )


def video_model_mask(mask: torch.Tensor, pixel_frames: int, latent_shape,
                     temporal_compression: int | None = None) -> torch.Tensor:
    """A video's inpainting-model mask as Wan's image-to-video and Fun inpainting models take it: the masks of
    its `pixel_frames` frames ([pixel_frames,H,W], or one for all) at the latent's size, each latent frame's
    pixel frames as its channels, [1, ratio, T, h, w] (other models read the first channel). Frames the
    encoder drops are left out. `mask` is in any MASK layout."""
    shape = _checked_latent_shape(latent_shape)
    masks = mask_batch(mask, "mask")
    if masks.shape[0] not in (1, pixel_frames):
        raise ValueError(f"mask has {masks.shape[0]} frames but the video has {pixel_frames}: give one mask, or "
                         "one per frame")
    ratio = temporal_ratio(pixel_frames, shape[2], temporal_compression)
    frames = masks.expand(pixel_frames, -1, -1)[:1 + ratio * (shape[2] - 1)]
    return frames_as_channels(conditioning_mask(frames, *shape[-2:])[:, 0], ratio)[None]


def mask_at_size(masks: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Checked masks [N,H,W] at height x width, resized as ComfyUI resizes a mask of another size
    (bilinear): for nodes that stand in for ComfyUI's own. In 0-1, float32 or wider."""
    check_layout(masks, "masks", 3, "[N,H,W] masks")
    resized = F.interpolate(unit_mask(masks, "masks")[:, None], size=(height, width), mode="bilinear")[:, 0]
    return resized.clamp_(0, 1)  # the interpolation's rounding can step past 1


def eight_bit_levels(mask: torch.Tensor) -> torch.Tensor:
    """A latent-size mask rounded to the 8-bit levels A1111 holds masks in, so faint tails below half a
    level are 0 (a high power of them would still be near 1). Same shape and device, float32 or wider."""
    return (unit_mask(mask, "mask") * 255).round() / 255


def _checked_latent_shape(shape) -> tuple[int, ...]:
    shape = tuple(shape)
    if len(shape) not in (4, 5) or not all(isinstance(size, int) and size > 0 for size in shape):
        raise ValueError(f"the latent must be [B,C,h,w] or a video [B,C,T,h,w], got shape {shape}")
    return shape


def _per_latent_frame(pixels: torch.Tensor, latent_frames: int, ratio: int | None, name: str) -> torch.Tensor:
    try:
        return frames_per_latent_frame(pixels, latent_frames, ratio)
    except ValueError as error:
        raise ValueError(f"{name}: {error}. Give one frame, one per latent frame ({latent_frames}) or one per "
                         "frame of the video") from None


def _encoder_crop(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The part of [N,H,W] masks that the VAE encoder kept: the centred multiple of the latent scale."""
    scale = max(1, pixels.shape[-2] // height)
    if (pixels.shape[-2] // scale, pixels.shape[-1] // scale) == (height, width):
        return centre_crop(pixels, height * scale, width * scale)
    return pixels


def centre_crop(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The centred height x width part of [N,H,W,...] pictures, as ComfyUI's VAE encoder crops odd sizes."""
    top, left = (images.shape[1] - height) // 2, (images.shape[2] - width) // 2
    return images[:, top:top + height, left:left + width]


def _laid_out(masks: torch.Tensor, shape, video: bool) -> torch.Tensor:
    """Latent-size masks [N,h,w] (per sample, or per latent frame) as [B,1,h,w] or [B,1,T,h,w] (views)."""
    if video:
        return masks[None, None].expand(shape[0], -1, -1, -1, -1)
    if len(shape) == 5:  # pictures of one latent frame each
        return masks[:, None, None].expand(shape[0], -1, -1, -1, -1)
    return masks[:, None].expand(shape[0], -1, -1, -1)
