"""Soft inpainting, the A1111 method, as a torch library that knows nothing of ComfyUI."""

from .adaptive_mask import adaptive_latent_mask, composite, pixel_composite_mask, smootherstep
from .crop import Crops, crop, crop_around_masks, crop_boxes, stitch, stitch_crops, uncrop
from .fill import fill_masked_latent, fill_masked_pixels
from .histogram_filter import gaussian_kernel, weighted_histogram_filter
from .latent_blend import blend_denoised, flow_to_sd_sigma, latent_blend, modified_nmask, original_kept
from .latent_mask import conditioning_mask, latent_mask, mask_to_8bit, soft_masked_pixels
from .mask_prep import blur_kernel, blur_mask, prepare_mask
from .masks import InpaintMasks, eight_bit_levels, mask_at_size, mask_batch, masks_for_latent, video_model_mask
from .paste_back import paste_back
from .settings import PARAMETERS, ParameterSpec, SoftInpaintSettings

__all__ = [
    "Crops",
    "InpaintMasks",
    "PARAMETERS",
    "ParameterSpec",
    "SoftInpaintSettings",
    "adaptive_latent_mask",
    "blend_denoised",
    "blur_kernel",
    "blur_mask",
    "composite",
    "conditioning_mask",
    "crop",
    "crop_around_masks",
    "crop_boxes",
    "eight_bit_levels",
    "fill_masked_latent",
    "fill_masked_pixels",
    "flow_to_sd_sigma",
    "gaussian_kernel",
    "latent_blend",
    "latent_mask",
    "mask_at_size",
    "mask_batch",
    "mask_to_8bit",
    "masks_for_latent",
    "modified_nmask",
    "original_kept",
    "paste_back",
    "pixel_composite_mask",
    "prepare_mask",
    "smootherstep",
    "soft_masked_pixels",
    "stitch",
    "stitch_crops",
    "uncrop",
    "video_model_mask",
    "weighted_histogram_filter",
]
