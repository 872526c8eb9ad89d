"""Adaptive Difference Composite: bring the original pixels back where the latent barely changed."""

import dataclasses

import torch
from comfy_api.latest import io, ui

from ..core import adaptive_latent_mask, composite, pixel_composite_mask, stitch, uncrop
from ..core.frames import latent_frame_index, temporal_ratio
from ..core.tensor_checks import check_images, check_tensor, working_dtype
from .crop import SoftInpaintCropType
from .inputs import SoftMaskScheduleType, checked_mask_for, mask_for_latent, parameter_input, temporal_ratio_of
from .sampler import LATENT_INFO_KEY
from .schema import node_schema
from .soft_blend import SoftSchedule


def _pick(explicit, carried, what):
    value = explicit if explicit is not None else carried
    if value is None:
        raise ValueError(
            f"Adaptive Difference Composite needs {what}: connect it, or take inpainted_latent straight "
            "from the Soft Latent Blend KSampler, which carries it."
        )
    return value


def _latent_mask(mask, carried, latent, processed, ratio):
    """A1111's latent mask [B,h,w] ([B,T,h,w] for video): from the mask input, else the one the soft sampler
    used, else the latent's noise mask."""
    if mask is None and "latent_mask" in carried:
        return carried["latent_mask"][:, 0]
    mask = _pick(mask, latent.get("noise_mask"), "the mask")
    return mask_for_latent(checked_mask_for(mask, processed), processed.shape, ratio)[:, 0]


def _model_space(latent_format, samples, device, input_name):
    """A latent as the model samples it, in float32 or wider (a float64 one stays float64)."""
    scaled = latent_format.process_in(samples.to(device, working_dtype(samples.dtype)))
    check_tensor(scaled, input_name)  # a latent near its type's largest value may scale past it
    return scaled


def _at_original_size(original, inpainted, pixel_mask, latent_height):
    """Composite over the whole original. ComfyUI's VAE encoder crops a picture whose size is not a multiple
    of the latent scale, centred; the decoded picture covers that centre and the rest stays the original."""
    (height, width), (decoded_height, decoded_width) = original.shape[1:3], inpainted.shape[1:3]
    if (height, width) == (decoded_height, decoded_width):
        return composite(original, inpainted, pixel_mask), pixel_mask
    scale = max(1, decoded_height // latent_height)
    if (height // scale * scale, width // scale * scale) != (decoded_height, decoded_width):
        raise ValueError(
            f"original_image is {height}x{width} but inpainted_image is {decoded_height}x{decoded_width}: "
            "give the picture that was encoded (only a crop to a multiple of the latent scale is made up for)"
        )
    top, left = (height - decoded_height) // 2, (width - decoded_width) // 2
    batch = max(original.shape[0], inpainted.shape[0])
    dtype = torch.promote_types(original.dtype, inpainted.dtype)  # not narrowed to the original's
    full = original.expand(batch, -1, -1, -1).to(dtype, copy=True)
    full[:, top:top + decoded_height, left:left + decoded_width] = inpainted.to(full)
    full_mask = torch.zeros(pixel_mask.shape[0], height, width, device=pixel_mask.device)
    full_mask[:, top:top + decoded_height, left:left + decoded_width] = pixel_mask
    return composite(original, full, full_mask), full_mask


def _decoded_ratio(inpainted_frames, batch, latent_frames, known):
    """(decoded frames per video, temporal ratio): causal VAEs decode the first latent frame to one frame and
    each further one to `ratio` frames, so T latent frames decode to D = 1 + ratio * (T - 1)."""
    decoded, remainder = divmod(inpainted_frames, batch)
    try:
        ratio = None if remainder else temporal_ratio(decoded, latent_frames, known)
    except ValueError:
        ratio = None
    if ratio is None or decoded != 1 + ratio * (latent_frames - 1):
        raise ValueError(
            f"inpainted_image has {inpainted_frames} frames, which {batch} video(s) of {latent_frames} latent "
            "frames do not decode to: give the VAE Decode output of inpainted_latent"
        )
    return decoded, ratio


def _video_composite(original, inpainted, changed, latent_shape, known_ratio):
    """Composite decoded frames [B*D,H,W,C] over the original's: each decoded frame takes the compositing
    mask of the latent frame it decodes from (changed: [B,T,h,w])."""
    decoded, ratio = _decoded_ratio(inpainted.shape[0], *changed.shape[:2], known_ratio)
    frames = pixel_composite_mask(changed.flatten(0, 1), *inpainted.shape[1:3]).unflatten(0, changed.shape[:2])
    pixel_mask = frames[:, latent_frame_index(decoded, ratio, frames.device)].flatten(0, 1)
    return _video_at_original_size(original, inpainted, pixel_mask, latent_shape, ratio)


def _video_at_original_size(original, inpainted, pixel_mask, latent_shape, ratio):
    """Composite the decoded frames over the original video's. The frames the encoder dropped at the end
    (up to ratio - 1 beyond the 1 + ratio * (T - 1) it decodes to) come back as the original's."""
    batch, frames, decoded = latent_shape[0], original.shape[0], inpainted.shape[0]
    most = decoded if batch > 1 else ratio * latent_shape[2]
    if not decoded <= frames <= most:
        raise ValueError(
            f"original_image has {frames} frames but the {decoded} decoded frames come from {decoded}"
            + (f" to {most}" if most > decoded else "") + ": give the video that was encoded"
        )
    image, mask = _at_original_size(original[:decoded], inpainted, pixel_mask, latent_shape[-2])
    rest = original[decoded:]
    return torch.cat([image, rest.to(image)]), torch.cat([mask, mask.new_zeros(rest.shape[:3])])


def _stitched(crop, original, inpainted, pixel_mask):
    """Only masked: paste the inpainted crops back into the full pictures through the compositing mask, once."""
    if original.shape[1:3] != crop["original"].shape[1:3]:
        raise ValueError(
            f"with a crop connected, original_image must be the full picture given to Soft Inpaint Crop "
            f"({tuple(crop['original'].shape[1:3])}), got {tuple(original.shape[1:3])}"
        )
    boxes = crop["boxes"]
    original = original.expand(len(boxes), -1, -1, -1)
    pixel_mask = pixel_mask.to(original.device)
    full_mask = uncrop(pixel_mask[..., None], boxes, *original.shape[1:3])[..., 0]
    return stitch(original, inpainted.to(original), boxes, crop_masks=pixel_mask), full_mask


class AdaptiveDifferenceComposite(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="AdaptiveDifferenceComposite",
            search_aliases=("inpaint composite", "colour shift", "color shift", "paste back"),
            display_name="Adaptive Difference Composite",
            category="inpaint/soft inpainting",
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
        carried = inpainted_latent.get(LATENT_INFO_KEY, {})
        processed = inpainted_latent["samples"]
        check_tensor(processed, "inpainted_latent")
        if processed.ndim not in (4, 5):
            raise ValueError(f"inpainted_latent must be [B,C,H,W] or a video latent [B,C,T,H,W], got shape "
                             f"{tuple(processed.shape)}")
        if processed.ndim == 5 and crop is not None:
            raise ValueError("crop: only masked (Soft Inpaint Crop) is for pictures; a video latent has no crop")
        original = _pick(None if original_latent is None else original_latent["samples"], carried.get("original"),
                         "the original_latent")
        check_tensor(original, "original_latent")
        latent_format = _pick(None if model is None else model.get_model_object("latent_format"),
                              carried.get("latent_format"), "the model (for its latent scale)")
        if schedule is None:
            schedule = carried.get("schedule", SoftSchedule())
        settings = dataclasses.replace(
            schedule.settings,
            mask_influence=mask_influence, difference_threshold=difference_threshold,
            difference_contrast=difference_contrast,
        )
        ratio = temporal_ratio_of(latent_format)
        # Distances in the latent space the model samples in, as A1111 measures them.
        changed = adaptive_latent_mask(
            _latent_mask(mask, carried, inpainted_latent, processed, ratio).to(processed.device),
            _model_space(latent_format, original, processed.device, "original_latent"),
            _model_space(latent_format, processed, processed.device, "inpainted_latent"),
            settings,
        )
        if processed.ndim == 5:
            image, full_mask = _video_composite(original_image, inpainted_image, changed, processed.shape, ratio)
        else:
            pixel_mask = pixel_composite_mask(changed, inpainted_image.shape[1], inpainted_image.shape[2])
            if crop is not None:
                image, full_mask = _stitched(crop, original_image, inpainted_image, pixel_mask)
            else:
                image, full_mask = _at_original_size(original_image, inpainted_image, pixel_mask, processed.shape[2])
        return io.NodeOutput(image, full_mask, ui=ui.PreviewMask(full_mask, cls=cls))
