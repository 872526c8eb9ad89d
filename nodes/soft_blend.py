"""Soft inpainting inside ComfyUI's sampler: a wrapper around every sampler run.

ComfyUI blends each step linearly by the noise mask (KSamplerX0Inpaint). For the run, the wrapper
replaces that blend: a denoise-mask function hands the sampler a mask of ones (so the linear blend
does nothing, while inpainting models still get the real mask through their conditioning), and a
post-CFG function blends the denoised latent with the original as A1111 does.
"""

from dataclasses import dataclass, field

import comfy.model_sampling
import comfy.patcher_extension
import torch

from ..core import SoftInpaintSettings, blend_denoised, flow_to_sd_sigma

WRAPPER_KEY = "soft_inpainting"
MISSING_MASK = (
    "Soft inpainting needs a mask: connect one to the sampler's 'mask' input, or give the latent a noise "
    "mask (Set Latent Noise Mask, VAE Encode (for Inpainting) or InpaintModelConditioning)."
)


SIGMA_SPACES = ("sd", "raw")


@dataclass(frozen=True)
class SoftSchedule:
    """The SOFT_MASK_SCHEDULE value: the blend settings and how sigmas are read.

    sigma_space "sd" turns a flow model's sigma into the equivalent SD noise level, so the schedule
    means the same for every model family; "raw" feeds the model's sigma as it is (A1111 exactly).
    """

    settings: SoftInpaintSettings = field(default_factory=SoftInpaintSettings)
    sigma_space: str = "sd"

    def __post_init__(self):
        if self.sigma_space not in SIGMA_SPACES:
            raise ValueError(f"sigma_space must be one of {SIGMA_SPACES}, got {self.sigma_space!r}")


def _is_flow(model_sampling) -> bool:
    return isinstance(model_sampling, comfy.model_sampling.CONST)


class _SoftBlendRun:
    """The state of one sampler run: the original latent and the step's mask."""

    def __init__(self, original: torch.Tensor, schedule: SoftSchedule, flow: bool, previous_mask_function):
        self.original = original
        self.settings = schedule.settings
        self.convert_sigma = flow and schedule.sigma_space == "sd"
        self.previous_mask_function = previous_mask_function
        self.step_mask = None

    def denoise_mask(self, sigma, denoise_mask, extra_options):
        if self.previous_mask_function is not None:  # another patch may shape the mask per step
            denoise_mask = self.previous_mask_function(sigma, denoise_mask, extra_options)
        self.step_mask = denoise_mask
        return torch.ones_like(denoise_mask)

    def after_cfg(self, args):
        denoised = args["denoised"]
        original = self.original.to(device=denoised.device, dtype=denoised.dtype)
        sigma = flow_to_sd_sigma(args["sigma"]) if self.convert_sigma else args["sigma"]
        blended = blend_denoised(original, denoised, self.step_mask.to(denoised), sigma, self.settings)
        return blended.to(denoised.dtype)


def _soft_blend_wrapper(schedule: SoftSchedule, noise_multiplier: float):
    def sampler_sample(executor, guider, sigmas, extra_args, callback, noise, latent_image=None,
                       denoise_mask=None, disable_pbar=False):
        if denoise_mask is None:
            raise ValueError(MISSING_MASK)
        model_options = dict(extra_args["model_options"])
        original = latent_image if latent_image is not None else torch.zeros_like(noise)
        flow = _is_flow(guider.inner_model.model_sampling)
        run = _SoftBlendRun(original, schedule, flow, model_options.get("denoise_mask_function"))
        model_options["denoise_mask_function"] = run.denoise_mask
        model_options["sampler_post_cfg_function"] = [*model_options.get("sampler_post_cfg_function", []),
                                                       run.after_cfg]
        extra_args = {**extra_args, "model_options": model_options}
        noise = noise * noise_multiplier  # A1111's initial noise multiplier
        return executor(guider, sigmas, extra_args, callback, noise, latent_image, denoise_mask, disable_pbar)

    return sampler_sample


def with_soft_inpainting(model, schedule: SoftSchedule, noise_multiplier: float = 1.0):
    """A clone of the ModelPatcher `model` whose sampler runs soft-blend every step (replacing any
    earlier soft-inpainting patch, so it never blends twice)."""
    patched = model.clone()
    patched.remove_wrappers_with_key(comfy.patcher_extension.WrappersMP.SAMPLER_SAMPLE, WRAPPER_KEY)
    patched.add_wrapper_with_key(
        comfy.patcher_extension.WrappersMP.SAMPLER_SAMPLE, WRAPPER_KEY,
        _soft_blend_wrapper(schedule, noise_multiplier),
    )
    return patched
