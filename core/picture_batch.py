"""Pictures or video: how a latent's samples line up with the masks (or pictures) given for it.

Video latents are [B,C,T,h,w]. Image models on a video latent format (Qwen-Image samples on Wan's) make their
pictures one latent frame each, as do video models asked for stills: a latent with one latent frame decodes
to one picture per sample. It is a batch of pictures, one mask per picture, when the masks or pictures given
for it are one for all or one per sample; more than that are the frames of one video, which a causal video
VAE folds into its first latent frame.
"""

import torch


def is_picture_batch(shape, count: int) -> bool:
    """Whether a latent of `shape` is a batch of pictures for `count` masks (or pictures) given with it: a
    picture latent [B,C,h,w] always, a video latent [B,C,T,h,w] when T is 1 and count is 1 or B."""
    if len(shape) == 4:
        return True
    if len(shape) != 5:
        raise ValueError(f"the latent must be [B,C,h,w] or [B,C,T,h,w], got shape {tuple(shape)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    return shape[2] == 1 and count in (1, shape[0])


def in_format_layout(latent: torch.Tensor, latent_dimensions: int) -> torch.Tensor:
    """A picture latent [B,C,h,w] of a model whose latent format is a video one (latent_dimensions 3) as that
    model samples it, [B,C,1,h,w] (a view), the way ComfyUI's sampler gives it its frame axis; any other latent
    as it is."""
    if latent_dimensions == 3 and latent.ndim == 4:
        return latent.unsqueeze(2)
    return latent
