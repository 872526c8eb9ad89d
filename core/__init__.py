"""Soft inpainting, the A1111 method, as a torch library that knows nothing of ComfyUI."""

from .adaptive_mask import adaptive_latent_mask, composite, pixel_composite_mask, smootherstep
from .histogram_filter import gaussian_kernel, weighted_histogram_filter
from .latent_blend import blend_denoised, latent_blend, modified_nmask
from .settings import PARAMETERS, ParameterSpec, SoftInpaintSettings

__all__ = [
    "PARAMETERS",
    "ParameterSpec",
    "SoftInpaintSettings",
    "adaptive_latent_mask",
    "blend_denoised",
    "composite",
    "gaussian_kernel",
    "latent_blend",
    "modified_nmask",
    "pixel_composite_mask",
    "smootherstep",
    "weighted_histogram_filter",
]
