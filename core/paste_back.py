"""Step 4 of the picture's way through: the decoded inpainting composited over the original, at the
original's size (pictures of any size, videos of any frame count) or pasted back into only-masked crops.

The parameters are named after the Adaptive Difference Composite's inputs, so errors name what to fix.
"""

import torch

from .adaptive_mask import composite, pixel_composite_mask
from .crop import Crops, stitch, uncrop
from .frames import latent_frame_index, temporal_ratio
from .masks import centre_crop
from .tensor_checks import check_layout, check_tensor


def paste_back(original_image: torch.Tensor, inpainted_image: torch.Tensor, changed: torch.Tensor,
               temporal_compression: int | None = None, crops: Crops | None = None):
    """Composite `inpainted_image` (decoded) over `original_image` (ComfyUI images [B,H,W,C]) by the
    compositing mask that `changed` (adaptive_latent_mask's [B,h,w], or [B,T,h,w] for a video) gives at
    pixel size. Returns (pictures, compositing mask [B,H,W]), both at the original's size.

    - A picture whose size is not a multiple of the latent scale was cropped, centred, by the encoder: the
      decoded picture covers that centre, the border stays the original's.
    - A video's decoded frames [B*D,H,W,C] each take the mask of the latent frame they decode from
      (`temporal_compression` where the model reports it, else inferred from the counts); frames the
      encoder dropped at the end come back as the original's.
    - With `crops` (only masked), the decoded crops are pasted into the full pictures through the mask, once.
    """
    for name, image in (("original_image", original_image), ("inpainted_image", inpainted_image)):
        check_layout(image, name, 4, "[B,H,W,C] images")
        check_tensor(image, name)
    check_tensor(changed, "changed")
    if changed.ndim not in (3, 4):
        raise ValueError(f"changed must be [B,h,w] or a video's [B,T,h,w], got shape {tuple(changed.shape)}")
    if changed.ndim == 4:
        if crops is not None:
            raise ValueError("crop: only masked (Soft Inpaint Crop) is for pictures; a video latent has no crop")
        return _video(original_image, inpainted_image, changed, temporal_compression)
    pixel_mask = pixel_composite_mask(changed, *inpainted_image.shape[1:3])
    if crops is not None:
        return _into_crops(original_image, inpainted_image, pixel_mask, crops)
    return _at_original_size(original_image, inpainted_image, pixel_mask, changed.shape[-2])


def _at_original_size(original, inpainted, pixel_mask, latent_height):
    (height, width), (decoded_height, decoded_width) = original.shape[1:3], inpainted.shape[1:3]
    if (height, width) == (decoded_height, decoded_width):
        return composite(original, inpainted, pixel_mask), pixel_mask
    scale = max(1, decoded_height // latent_height)
    if (height // scale * scale, width // scale * scale) != (decoded_height, decoded_width):
        raise ValueError(
            f"original_image is {height}x{width} but inpainted_image is {decoded_height}x{decoded_width}: "
            "give the picture that was encoded (only a crop to a multiple of the latent scale is made up for)"
        )
    batch = max(original.shape[0], inpainted.shape[0])
    dtype = torch.promote_types(original.dtype, inpainted.dtype)
    full = original.to(dtype).expand(batch, -1, -1, -1).clone()
    centre_crop(full, decoded_height, decoded_width)[...] = inpainted.to(full)
    full_mask = pixel_mask.new_zeros(pixel_mask.shape[0], height, width)
    centre_crop(full_mask, decoded_height, decoded_width)[...] = pixel_mask
    return composite(original, full, full_mask), full_mask


def _decoded_frames_and_ratio(inpainted_frames: int, batch: int, latent_frames: int, known: int | None):
    """(decoded frames per video, temporal compression): causal VAEs decode the first latent frame to one
    frame and each further one to `ratio` frames, so T latent frames decode to D = 1 + ratio * (T - 1)."""
    decoded, remainder = divmod(inpainted_frames, batch)
    try:
        ratio = None if remainder else temporal_ratio(decoded, latent_frames, known)
    except ValueError:
        ratio = None
    if ratio is None or decoded != 1 + ratio * (latent_frames - 1):
        raise ValueError(
            f"inpainted_image has {inpainted_frames} frames, which {batch} video(s) of {latent_frames} latent "
            "frames do not decode to: give the VAE Decode output of inpainted_latent"
        )
    return decoded, ratio


def _video(original, inpainted, changed, known_ratio):
    batch, latent_frames = changed.shape[:2]
    decoded, ratio = _decoded_frames_and_ratio(inpainted.shape[0], batch, latent_frames, known_ratio)
    per_latent_frame = pixel_composite_mask(changed.flatten(0, 1), *inpainted.shape[1:3]).unflatten(0, (batch, -1))
    pixel_mask = per_latent_frame[:, latent_frame_index(decoded, ratio, changed.device)].flatten(0, 1)
    # The encoder drops up to ratio - 1 frames after the 1 + ratio * (T - 1) it encodes.
    frames, decoded_frames = original.shape[0], inpainted.shape[0]
    most = decoded_frames if batch > 1 else ratio * latent_frames
    if not decoded_frames <= frames <= most:
        raise ValueError(
            f"original_image has {frames} frames but the {decoded_frames} decoded frames come from "
            f"{decoded_frames}" + (f" to {most}" if most > decoded_frames else "") + ": give the video that was encoded"
        )
    image, mask = _at_original_size(original[:decoded_frames], inpainted, pixel_mask, changed.shape[-2])
    dropped = original[decoded_frames:]
    if not len(dropped):  # the usual case: spare a copy of the whole video
        return image, mask
    return torch.cat([image, dropped.to(image)]), torch.cat([mask, mask.new_zeros(dropped.shape[:3])])


def _into_crops(original, inpainted, pixel_mask, crops: Crops):
    if original.shape[1:3] != crops.original.shape[1:3]:
        raise ValueError(
            f"with a crop connected, original_image must be the full picture given to Soft Inpaint Crop "
            f"({tuple(crops.original.shape[1:3])}), got {tuple(original.shape[1:3])}"
        )
    original = original.expand(len(crops.boxes), -1, -1, -1)
    pixel_mask = pixel_mask.to(original.device)
    full_mask = uncrop(pixel_mask[..., None], crops.boxes, *original.shape[1:3])[..., 0]
    return stitch(original, inpainted.to(original), crops.boxes, crop_masks=pixel_mask), full_mask


def preview_sheet(frames: torch.Tensor, count: int = 4) -> torch.Tensor:
    """`count` evenly spaced frames of masks [N,H,W], first and last included, side by side as one [1,H,k*W]
    sheet: how a video's mask moves, in one picture."""
    count = min(count, frames.shape[0])
    picked = torch.linspace(0, frames.shape[0] - 1, count, device=frames.device).round().long()
    return torch.cat(list(frames[picked]), dim=-1)[None]
