"""A1111's masks as 8-bit pictures: the latent mask every step blends by, and the inpainting models' mask."""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def mask_to_8bit(mask: torch.Tensor) -> np.ndarray:
    """Masks [..., H, W] in 0-1 as A1111 holds them: 8-bit levels, by rounding (values outside 0-1 clamp)."""
    return (mask.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def _check_mask_and_size(mask: torch.Tensor, height: int, width: int) -> None:
    if not isinstance(mask, torch.Tensor) or mask.ndim != 3:
        shape = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"mask must be [B,H,W], got {shape}")
    if mask.shape[0] == 0 or mask.shape[1] == 0 or mask.shape[2] == 0:
        raise ValueError(f"mask must not be empty, got shape {tuple(mask.shape)}")
    if int(height) < 1 or int(width) < 1:
        raise ValueError(f"latent size must be positive, got {height}x{width}")


def latent_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The latent mask of A1111's img2img: the pixel mask [B,H,W] (0-1, 1 = inpaint) in 8 bits, resized to
    height x width by Pillow's default resize (bicubic, antialiased), divided by 255.

    Every soft-inpainting step blends by this mask and the composite biases its threshold by it. The 8-bit
    rounding matters: faint blur tails below half a level become 0, where a float mask would keep them
    and a high power of them would still be near 1. Returns float32 [B,height,width] on the mask's device.
    """
    _check_mask_and_size(mask, height, width)
    size = (int(width), int(height))
    levels = [np.asarray(Image.fromarray(sample).resize(size, Image.BICUBIC)) for sample in mask_to_8bit(mask)]
    return torch.from_numpy(np.stack(levels)).to(mask.device).float() / 255


def conditioning_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The mask channel A1111 gives an inpainting model: the 8-bit pixel mask, unrounded under soft
    inpainting, resized to height x width by torch's default (nearest) interpolation. [B,1,height,width]."""
    _check_mask_and_size(mask, height, width)
    levels = torch.from_numpy(mask_to_8bit(mask)).to(mask.device).float() / 255
    return F.interpolate(levels[:, None], size=(int(height), int(width)))


def soft_masked_pixels(pixels: torch.Tensor, mask: torch.Tensor, strength: float) -> torch.Tensor:
    """The masked picture an inpainting model is conditioned on, as A1111 makes it: pixels [B,H,W,C] in 0-1
    pulled towards mid-grey by the 8-bit mask [B or 1,H,W], the pull scaled by `strength` (A1111's
    "inpainting conditioning mask strength", 0-1). With a hard mask and strength 1 this is ComfyUI's
    InpaintModelConditioning picture."""
    if pixels.ndim != 4:
        raise ValueError(f"pixels must be [B,H,W,C], got shape {tuple(pixels.shape)}")
    if mask.ndim != 3 or mask.shape[1:] != pixels.shape[1:3] or mask.shape[0] not in (1, pixels.shape[0]):
        raise ValueError(f"mask must be [1 or {pixels.shape[0]},H,W] with H,W = {tuple(pixels.shape[1:3])}, "
                         f"got {tuple(mask.shape)}")
    if not 0 <= strength <= 1:
        raise ValueError(f"mask strength must be in [0, 1], got {strength}")
    levels = torch.from_numpy(mask_to_8bit(mask)).to(device=pixels.device, dtype=pixels.dtype) / 255
    centred = pixels - 0.5  # A1111 works on pixels in -1..1, where 0 is grey
    return 0.5 + torch.lerp(centred, centred * (1 - levels[..., None]), strength)
