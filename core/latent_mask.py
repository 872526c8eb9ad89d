"""A1111's masks as 8-bit pictures: the latent mask every step blends by, and the inpainting models' mask."""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .tensor_checks import check_range, check_size, check_tensor, result_dtype, unit_mask, working_dtype


def _levels(mask, name: str = "mask") -> np.ndarray:
    return (unit_mask(mask, name).detach().float() * 255).round().to(torch.uint8).cpu().numpy()


def mask_to_8bit(mask: torch.Tensor) -> np.ndarray:
    """Masks [..., H, W] (float or bool) as A1111 holds them: 8-bit levels, by rounding (values outside 0-1
    clamp). A uint8 numpy array."""
    if isinstance(mask, torch.Tensor) and mask.ndim < 2:
        raise ValueError(f"mask must be [..., H, W], got shape {tuple(mask.shape)}")
    return _levels(mask)


def _check_mask_and_size(mask, height, width) -> tuple[int, int]:
    if isinstance(mask, torch.Tensor) and mask.ndim != 3:
        raise ValueError(f"mask must be [B,H,W], got shape {tuple(mask.shape)}")
    check_tensor(mask, "mask", allow_bool=True)
    return check_size(height, "height"), check_size(width, "width")


def latent_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The latent mask of A1111's img2img: the pixel mask [B,H,W] (0-1, 1 = inpaint) in 8 bits, resized to
    height x width by Pillow's default resize (bicubic, antialiased), divided by 255.

    Every soft-inpainting step blends by this mask and the composite biases its threshold by it. The 8-bit
    rounding matters: faint blur tails below half a level become 0, where a float mask would keep them
    and a high power of them would still be near 1. Returns [B,height,width] on the mask's device, in its
    dtype (float32 for a bool mask).
    """
    height, width = _check_mask_and_size(mask, height, width)
    levels = [np.asarray(Image.fromarray(sample).resize((width, height), Image.BICUBIC)) for sample in _levels(mask)]
    return torch.from_numpy(np.stack(levels)).to(mask.device, result_dtype(mask.dtype)) / 255


def conditioning_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The mask channel A1111 gives an inpainting model: the 8-bit pixel mask, unrounded under soft
    inpainting, resized to height x width by torch's default (nearest) interpolation. [B,1,height,width]
    in the mask's dtype (float32 for a bool mask)."""
    height, width = _check_mask_and_size(mask, height, width)
    levels = F.interpolate(torch.from_numpy(_levels(mask)).to(mask.device).float()[:, None], size=(height, width))
    return levels.to(result_dtype(mask.dtype)) / 255


def soft_masked_pixels(pixels: torch.Tensor, mask: torch.Tensor, strength: float) -> torch.Tensor:
    """The masked picture an inpainting model is conditioned on, as A1111 makes it: pixels [B,H,W,C] in 0-1
    pulled towards mid-grey by the 8-bit mask [B or 1,H,W], the pull scaled by `strength` (A1111's
    "inpainting conditioning mask strength", 0-1). With a hard mask and strength 1 this is ComfyUI's
    InpaintModelConditioning picture. Computed in float32 or wider; returns the pixels' dtype."""
    check_tensor(pixels, "pixels")
    if pixels.ndim != 4:
        raise ValueError(f"pixels must be [B,H,W,C], got shape {tuple(pixels.shape)}")
    if not isinstance(mask, torch.Tensor) or mask.ndim != 3 or mask.shape[1:] != pixels.shape[1:3] \
            or mask.shape[0] not in (1, pixels.shape[0]):
        shape = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"mask must be [1 or {pixels.shape[0]},H,W] with H,W = {tuple(pixels.shape[1:3])}, "
                         f"got {shape}")
    strength = check_range(strength, "strength", 0, 1)
    work = working_dtype(pixels.dtype)
    levels = torch.from_numpy(_levels(mask)).to(device=pixels.device, dtype=work) / 255
    centred = pixels.to(work) - 0.5  # A1111 works on pixels in -1..1, where 0 is grey
    return (0.5 + torch.lerp(centred, centred * (1 - levels[..., None]), strength)).to(pixels.dtype)
