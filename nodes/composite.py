"""Adaptive Difference Composite: bring the original pixels back where the latent barely changed."""

import dataclasses

from comfy_api.latest import io, ui

from ..core import adaptive_latent_mask, composite, pixel_composite_mask
from .inputs import SoftMaskScheduleType, checked_mask, parameter_input, resized_mask
from .sampler import LATENT_INFO_KEY
from .soft_blend import SoftSchedule


def _pick(explicit, carried, what):
    value = explicit if explicit is not None else carried
    if value is None:
        raise ValueError(
            f"Adaptive Difference Composite needs {what}: connect it, or take the inpainted latent straight "
            "from the Soft Latent Blend KSampler, which carries it."
        )
    return value


def _latent_mask(mask, latent):
    """The mask at the latent's size, [B,h,w] (resized as ComfyUI resizes noise masks)."""
    batch, _, height, width = latent.shape
    return resized_mask(checked_mask(mask, batch), batch, height, width)[:, 0]


class AdaptiveDifferenceComposite(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="AdaptiveDifferenceComposite",
            display_name="Adaptive Difference Composite",
            category="inpaint/soft inpainting",
            description="Composite the decoded inpainting over the original: where the latent barely changed, "
            "the original pixels come back, so the VAE round trip leaves no colour shift (A1111's soft "
            "inpainting, second stage).",
            inputs=[
                io.Image.Input("original_image", tooltip="The original picture."),
                io.Image.Input("inpainted_image", tooltip="The decoded inpainting result."),
                io.Latent.Input("inpainted_latent", tooltip="The sampler's output latent (before decoding)."),
                parameter_input("mask_influence"),
                parameter_input("difference_threshold"),
                parameter_input("difference_contrast"),
                SoftMaskScheduleType.Input(
                    "schedule", optional=True,
                    tooltip="Its preservation strength shapes the threshold. Defaults to the sampler's schedule.",
                ),
                io.Latent.Input("original_latent", optional=True,
                                tooltip="The encoded original. Defaults to the one the soft sampler carries."),
                io.Mask.Input("mask", optional=True,
                              tooltip="The inpaint mask. Defaults to the soft sampler's mask or the noise mask."),
                io.Model.Input("model", optional=True,
                               tooltip="Gives the latent scale, so thresholds mean what they mean in A1111. "
                               "Defaults to the soft sampler's model."),
            ],
            outputs=[
                io.Image.Output(display_name="image", tooltip="The composited picture."),
                io.Mask.Output(display_name="composite_mask", tooltip="1 = inpainted pixels, 0 = original."),
            ],
        )

    @classmethod
    def execute(cls, original_image, inpainted_image, inpainted_latent, mask_influence, difference_threshold,
                difference_contrast, schedule=None, original_latent=None, mask=None, model=None) -> io.NodeOutput:
        carried = inpainted_latent.get(LATENT_INFO_KEY, {})
        processed = inpainted_latent["samples"]
        if processed.ndim != 4:
            raise ValueError(f"inpainted_latent must be an image latent [B,C,H,W], got shape {tuple(processed.shape)}")
        original = _pick(None if original_latent is None else original_latent["samples"], carried.get("original"),
                         "the original latent")
        mask = _pick(mask, carried.get("mask", inpainted_latent.get("noise_mask")), "the mask")
        latent_format = _pick(None if model is None else model.get_model_object("latent_format"),
                              carried.get("latent_format"), "the model (for its latent scale)")
        if schedule is None:
            schedule = carried.get("schedule", SoftSchedule())
        settings = dataclasses.replace(
            schedule.settings,
            mask_influence=mask_influence, difference_threshold=difference_threshold,
            difference_contrast=difference_contrast,
        )
        # Distances in the latent space the model samples in, as A1111 measures them.
        latent_mask = adaptive_latent_mask(
            _latent_mask(mask, processed).to(processed.device),
            latent_format.process_in(original.float().to(processed.device)),
            latent_format.process_in(processed.float()),
            settings,
        )
        pixel_mask = pixel_composite_mask(latent_mask, inpainted_image.shape[1], inpainted_image.shape[2])
        image = composite(original_image, inpainted_image, pixel_mask)
        return io.NodeOutput(image, pixel_mask, ui=ui.PreviewMask(pixel_mask, cls=cls))
