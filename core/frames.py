"""Which pixel frames each latent frame of a causal video VAE stands for.

Causal video VAEs (Wan, HunyuanVideo, LTXV, Mochi, Cosmos) encode the first frame alone and every
`ratio` frames after it into one latent frame: T latent frames come from 1 + ratio * (T - 1) pixel frames
(up to ratio - 1 more are dropped by the encoder) and decode to exactly 1 + ratio * (T - 1).
"""

import torch


def _check_positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _fits(pixel_frames: int, latent_frames: int, ratio: int) -> bool:
    """Whether pixel_frames frames encode to latent_frames latent frames at this ratio."""
    return ratio * (latent_frames - 1) + 1 <= pixel_frames <= ratio * latent_frames


def _inferred_ratio(pixel_frames: int, latent_frames: int) -> int:
    if latent_frames == 1:  # the first frame alone: any ratio from pixel_frames up fits
        return pixel_frames
    exact, remainder = divmod(pixel_frames - 1, latent_frames - 1)
    return exact if remainder == 0 else -(-pixel_frames // latent_frames)


def temporal_ratio(pixel_frames: int, latent_frames: int, known: int | None = None) -> int:
    """The temporal compression that turns pixel_frames frames into latent_frames latent frames.

    `known` (what the VAE or the model reports) is checked against the counts; without it the ratio is
    inferred: the exact 1 + ratio * (T - 1) when there is one, else the smallest ratio that fits. Equal
    counts are ratio 1 (one frame per latent frame). Raises ValueError when the counts do not fit.
    """
    _check_positive_int(pixel_frames, "pixel_frames")
    _check_positive_int(latent_frames, "latent_frames")
    if known is not None:
        _check_positive_int(known, "the temporal compression")
    if pixel_frames == latent_frames:
        return 1
    ratio = known if known is not None else _inferred_ratio(pixel_frames, latent_frames)
    if ratio < 1 or not _fits(pixel_frames, latent_frames, ratio):
        shown = f"the temporal compression {known}" if known is not None else "any temporal compression"
        raise ValueError(
            f"{pixel_frames} frames do not make {latent_frames} latent frames at {shown}: a causal video VAE "
            "encodes the first frame alone, then each group of that many frames"
        )
    return ratio


def latent_frame_index(pixel_frames: int, ratio: int, device=None) -> torch.Tensor:
    """For each of pixel_frames frames, the latent frame it is encoded into: 0, then 1 for frames
    1..ratio, 2 for the next ratio frames... ([pixel_frames] int64)."""
    frames = torch.arange(pixel_frames, device=device)
    return torch.where(frames == 0, 0, (frames - 1) // ratio + 1)


def frames_per_latent_frame(masks: torch.Tensor, latent_frames: int, ratio: int | None = None) -> torch.Tensor:
    """Pixel-frame masks [F,H,W] as one mask per latent frame [latent_frames,H,W]: one frame applies to
    all, latent_frames frames are already one per latent frame, and pixel frames give each latent frame the
    union (maximum) of the frames it is encoded from, since its content decodes into all of them.
    Frames the encoder drops are left out."""
    if not isinstance(masks, torch.Tensor) or masks.ndim != 3:
        raise ValueError(f"masks must be [F,H,W], got {getattr(masks, 'shape', type(masks).__name__)}")
    frames = masks.shape[0]
    if frames == 1:
        return masks.expand(latent_frames, -1, -1)
    if frames == latent_frames:
        return masks
    index = latent_frame_index(frames, temporal_ratio(frames, latent_frames, ratio), masks.device)
    kept = masks[index < latent_frames]
    index = index[:kept.shape[0], None, None].expand_as(kept)
    out = torch.zeros(latent_frames, *masks.shape[1:], dtype=masks.dtype, device=masks.device)
    return out.scatter_reduce(0, index, kept, "amax", include_self=False)


def frames_as_channels(masks: torch.Tensor, ratio: int) -> torch.Tensor:
    """Pixel-frame masks [F,H,W] of a causal video, F = 1 + ratio * (T - 1), as `ratio` channels for each of its
    T latent frames: [ratio,T,H,W], channel k of latent frame t the mask of the frame it stands for, the first
    frame standing for all of the first latent frame's channels (it is encoded alone). This is how Wan's
    image-to-video and Fun inpainting models take their mask (4 channels, as ComfyUI's first-last-frame
    conditioning lays it out)."""
    if not isinstance(masks, torch.Tensor) or masks.ndim != 3:
        raise ValueError(f"masks must be [F,H,W], got {getattr(masks, 'shape', type(masks).__name__)}")
    _check_positive_int(ratio, "the temporal compression")
    if (masks.shape[0] - 1) % ratio:
        raise ValueError(f"{masks.shape[0]} frames are not 1 + {ratio} * (latent frames - 1): give the frames "
                         "the video was encoded from")
    padded = torch.cat([masks[:1].expand(ratio - 1, -1, -1), masks])
    return padded.unflatten(0, (-1, ratio)).transpose(0, 1)
