"""Encoding pictures with ComfyUI's VAE for the nodes that encode."""

import torch

from ..core.tensor_checks import all_finite, check_images


def encoded(vae, pixels: torch.Tensor, input_name: str) -> torch.Tensor:
    """vae.encode(pixels) of checked pictures; a ValueError naming the input where the encoding is not finite
    (pictures far outside 0-1 overflow the VAE)."""
    check_images(pixels, input_name)
    samples = vae.encode(pixels)
    if not all_finite(samples):
        raise ValueError(f"{input_name}: its encoding by the VAE holds NaN or infinite values; its values must "
                         "stay near 0-1")
    return samples
