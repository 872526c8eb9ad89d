"""The compositing mask as the composite node shows it: a picture's masks as they are, a video's as one sheet."""

import torch
from comfy_api.latest import ui

# A video's preview: this many frames, evenly spaced from the first to the last, side by side in one picture.
# ComfyUI writes one PNG per previewed frame; a few frames show how the mask moves at the cost of one file.
VIDEO_PREVIEW_FRAMES = 4


def preview_frames(mask: torch.Tensor, video: bool) -> torch.Tensor:
    """What to preview of a compositing mask [N,H,W]: all of it for pictures (N samples); for a video (N frames),
    up to VIDEO_PREVIEW_FRAMES evenly spaced frames, first and last included, as one [1,H,k*W] sheet."""
    if not video:
        return mask
    count = min(VIDEO_PREVIEW_FRAMES, mask.shape[0])
    picked = torch.linspace(0, mask.shape[0] - 1, count, device=mask.device).round().long()
    return torch.cat(list(mask[picked]), dim=-1)[None]


def mask_preview(mask: torch.Tensor, video: bool, cls) -> ui.PreviewMask:
    return ui.PreviewMask(preview_frames(mask, video), cls=cls)
