"""Adaptive Difference Composite: bring the original pixels back where the latent barely changed."""

import dataclasses

from comfy_api.latest import io, ui

from ..core import adaptive_latent_mask, masks_for_latent, paste_back
from ..core.paste_back import preview_sheet
from ..core.picture_batch import is_picture_batch
from ..core.tensor_checks import check_images, check_tensor, working_dtype
from .pack_types import (
    SoftInpaintCropType,
    SoftMaskScheduleType,
    SoftSchedule,
    as_sampled,
    soft_sampled,
    temporal_compression,
)
from .schema import node_schema, parameter_input


def _pick(explicit, carried, what):
    value = explicit if explicit is not None else carried
    if value is None:
        raise ValueError(
            f"Adaptive Difference Composite needs {what}: connect it, or take inpainted_latent straight "
            "from the Soft Latent Blend KSampler, which carries it."
        )
    return value


def _model_space(latent_format, samples, device, input_name):
    """A latent as the model samples it, in float32 or wider (a float64 one stays float64)."""
    scaled = latent_format.process_in(samples.to(device, working_dtype(samples.dtype)))
    check_tensor(scaled, input_name)  # a latent near its type's largest value may scale past it
    return scaled


class AdaptiveDifferenceComposite(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="AdaptiveDifferenceComposite",
            search_aliases=("inpaint composite", "colour shift", "color shift", "paste back"),
            display_name="Adaptive Difference Composite",
            category="inpaint/soft inpainting",
            has_intermediate_output=True,
            description="Composite the decoded inpainting over the original: where the latent barely changed, "
            "the original pixels come back, so the VAE round trip leaves no colour shift (A1111's soft "
            "inpainting, second stage). With a crop from Soft Inpaint Crop, it also pastes the result back "
            "into the full picture (only masked).",
            inputs=[
                io.Image.Input("original_image", tooltip="The original picture (the full picture when a crop is "
                                                         "connected)."),
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
                SoftInpaintCropType.Input(
                    "crop", optional=True,
                    tooltip="From Soft Inpaint Crop (only masked): the result is pasted back into the full "
                    "picture through the compositing mask, once, as A1111 does. No Stitch node is needed.",
                ),
            ],
            outputs=[
                io.Image.Output(display_name="image", tooltip="The composited picture, at the original's size."),
                io.Mask.Output(display_name="composite_mask", tooltip="1 = inpainted pixels, 0 = original."),
            ],
        )

    @classmethod
    def execute(cls, original_image, inpainted_image, inpainted_latent, mask_influence, difference_threshold,
                difference_contrast, schedule=None, original_latent=None, mask=None, model=None,
                crop=None) -> io.NodeOutput:
        check_images(original_image, "original_image")
        check_images(inpainted_image, "inpainted_image")
        carried = soft_sampled(inpainted_latent)
        processed = inpainted_latent["samples"]
        check_tensor(processed, "inpainted_latent")
        if processed.ndim not in (4, 5):
            raise ValueError(f"inpainted_latent must be [B,C,H,W] or a video latent [B,C,T,H,W], got shape "
                             f"{tuple(processed.shape)}")
        original = _pick(None if original_latent is None else original_latent["samples"],
                         carried and carried.original, "the original_latent")
        check_tensor(original, "original_latent")
        latent_format = _pick(None if model is None else model.get_model_object("latent_format"),
                              carried and carried.latent_format, "the model (for its latent scale)")
        ratio = temporal_compression(latent_format)
        # A picture latent of a model on a video latent format composites as the model sampled it.
        processed, original = as_sampled(processed, latent_format), as_sampled(original, latent_format)
        if mask is None and carried is not None:
            latent_mask = carried.latent_mask
        else:
            mask = _pick(mask, inpainted_latent.get("noise_mask"), "the mask")
            latent_mask = masks_for_latent(mask, processed.shape, ratio).blend
        schedule = schedule or (carried and carried.schedule) or SoftSchedule()
        settings = dataclasses.replace(schedule.settings, mask_influence=mask_influence,
                                       difference_threshold=difference_threshold,
                                       difference_contrast=difference_contrast)
        # Distances in the latent space the model samples in, as A1111 measures them.
        changed = adaptive_latent_mask(latent_mask.to(processed.device),
                                       _model_space(latent_format, original, processed.device, "original_latent"),
                                       _model_space(latent_format, processed, processed.device, "inpainted_latent"),
                                       settings)
        if processed.ndim == 5 and is_picture_batch(processed.shape, original_image.shape[0]):
            changed = changed[:, 0]  # one latent frame, one picture
        image, composite_mask = paste_back(original_image, inpainted_image, changed, ratio, crop)
        # A video's preview is one sheet of a few frames: ComfyUI writes a PNG per previewed frame.
        preview = preview_sheet(composite_mask) if changed.ndim == 4 else composite_mask
        return io.NodeOutput(image, composite_mask, ui=ui.PreviewMask(preview, cls=cls))
