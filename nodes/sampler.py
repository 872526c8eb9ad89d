"""Soft Latent Blend KSampler and Soft Inpaint Model Patch."""

import comfy.samplers
from comfy_api.latest import io

import nodes as comfy_nodes  # ComfyUI's own module (this pack's package is never on sys.path)

from ..core import mask_batch, masks_for_latent
from ..core.tensor_checks import check_count, check_range, check_tensor
from .pack_types import (
    SOFT_SAMPLED_KEY,
    SoftMaskScheduleType,
    SoftSampled,
    SoftSchedule,
    as_sampled,
    temporal_compression,
)
from .schema import node_schema, noise_multiplier_input
from .soft_blend import MISSING_MASK, with_soft_inpainting

# The longest noise schedule a denoise below 1 may ask ComfyUI to make (steps / denoise levels).
_LONGEST_SCHEDULE = 10**6
_SCHEDULE_TOOLTIP = "The soft mask schedule; A1111's defaults when not connected."


def _schedule_input():
    return SoftMaskScheduleType.Input("schedule", optional=True, tooltip=_SCHEDULE_TOOLTIP)


def _check_sampling(seed, steps, cfg, sampler_name, scheduler, denoise) -> None:
    """The sampler's inputs checked as ComfyUI's validation would, for a call that bypasses it (torch's and
    the samplers' own errors name no input)."""
    check_count(seed, "seed", 0, 0xFFFFFFFFFFFFFFFF)
    steps = check_count(steps, "steps", 1, 10000)
    check_range(cfg, "cfg", 0, 100)
    for name, value, options in (("sampler_name", sampler_name, comfy.samplers.KSampler.SAMPLERS),
                                 ("scheduler", scheduler, comfy.samplers.KSampler.SCHEDULERS)):
        if value not in options:
            raise ValueError(f"{name} must be one of ComfyUI's {name}s, got {value!r}")
    # Below 1, ComfyUI runs the last steps of a schedule of steps / denoise noise levels.
    if 0 < check_range(denoise, "denoise", 0, 1) < steps / _LONGEST_SCHEDULE:
        raise ValueError(f"denoise must be 0 or at least steps / {_LONGEST_SCHEDULE:.0e} = "
                         f"{steps / _LONGEST_SCHEDULE:.3g} (ComfyUI makes a schedule of steps / denoise noise "
                         f"levels), got {denoise}")


class SoftLatentBlendKSampler(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftLatentBlendKSampler",
            search_aliases=("soft ksampler", "inpaint ksampler"),
            display_name="Soft Latent Blend KSampler",
            category="inpaint/soft inpainting",
            description="KSampler with A1111's soft inpainting: at every step the denoised latent is blended "
            "with the original by the soft mask, its strength following the noise level.",
            inputs=[
                io.Model.Input("model", tooltip="The model used for denoising."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True,
                             tooltip="The random seed used for creating the noise."),
                io.Int.Input("steps", default=20, min=1, max=10000, tooltip="The number of denoising steps."),
                io.Float.Input("cfg", default=8.0, min=0.0, max=100.0, step=0.1, round=0.01,
                               tooltip="Classifier-free guidance scale."),
                io.Combo.Input("sampler_name", options=comfy.samplers.KSampler.SAMPLERS,
                               tooltip="The sampling algorithm."),
                io.Combo.Input("scheduler", options=comfy.samplers.KSampler.SCHEDULERS,
                               tooltip="How the noise levels are spaced over the steps."),
                io.Conditioning.Input("positive", tooltip="What to include in the image."),
                io.Conditioning.Input("negative", tooltip="What to keep out of the image."),
                io.Latent.Input("latent_image", tooltip="The encoded original image."),
                io.Float.Input("denoise", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="How much of the noise schedule to run; below 1 keeps more of the original."),
                _schedule_input(),
                io.Mask.Input("mask", optional=True,
                              tooltip="The inpaint mask (1 = inpaint; soft values blend). Any size: it is resized "
                              "to the latent. When not connected, the latent's noise mask is used."),
                noise_multiplier_input(),
            ],
            outputs=[io.Latent.Output(tooltip="The inpainted latent; it carries what the Adaptive Difference "
                                              "Composite needs.")],
        )

    @classmethod
    def execute(cls, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image,
                denoise, schedule=None, mask=None, initial_noise_multiplier=1.0) -> io.NodeOutput:
        _check_sampling(seed, steps, cfg, sampler_name, scheduler, denoise)
        schedule = schedule if schedule is not None else SoftSchedule()
        check_tensor(latent_image["samples"], "latent_image")
        latent_format = model.get_model_object("latent_format")
        samples = as_sampled(latent_image["samples"], latent_format)
        if mask is None:
            mask = latent_image.get("noise_mask")
        if mask is None:
            raise ValueError(MISSING_MASK)
        masks = masks_for_latent(mask, samples.shape, temporal_compression(latent_format))
        patched = with_soft_inpainting(model, schedule, initial_noise_multiplier, latent_masks=masks)
        out = comfy_nodes.common_ksampler(patched, seed, steps, cfg, sampler_name, scheduler, positive, negative,
                                          {**latent_image, "samples": samples, "noise_mask": masks.blend},
                                          denoise=denoise)[0]
        out[SOFT_SAMPLED_KEY] = SoftSampled(samples, masks.blend, schedule, latent_format)
        return io.NodeOutput(out)


class SoftInpaintModelPatch(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftInpaintModelPatch",
            search_aliases=("soft inpaint patch", "model patch"),
            display_name="Soft Inpaint Model Patch",
            category="inpaint/soft inpainting",
            description="Soft inpainting for any sampler node (KSampler Advanced, SamplerCustomAdvanced): the "
            "sampler blends each step softly by the latent's noise mask.",
            inputs=[
                io.Model.Input("model", tooltip="The model to patch."),
                _schedule_input(),
                noise_multiplier_input(),
                io.Mask.Input("mask", optional=True,
                              tooltip="The inpaint mask that the latent's noise mask was made from. Connect it for "
                              "A1111's exact latent mask: ComfyUI hands samplers the noise mask already resized "
                              "(bilinear), and soft inpainting is sensitive to faint mask tails."),
            ],
            outputs=[io.Model.Output(tooltip="The model with soft inpainting; the latent needs a noise mask.")],
        )

    @classmethod
    def execute(cls, model, schedule=None, initial_noise_multiplier=1.0, mask=None) -> io.NodeOutput:
        schedule = schedule if schedule is not None else SoftSchedule()
        pixel_mask = None if mask is None else mask_batch(mask)  # checked now; made latent-size per run
        return io.NodeOutput(with_soft_inpainting(model, schedule, initial_noise_multiplier, pixel_mask))
