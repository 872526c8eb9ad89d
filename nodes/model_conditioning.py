"""Soft Inpaint Model Conditioning: A1111's conditioning of inpainting models under soft inpainting."""

import node_helpers  # ComfyUI's own module
from comfy_api.latest import io

from ..core import conditioning_mask, soft_masked_pixels
from ..core.frames import frames_as_channels, temporal_ratio
from .inputs import checked_mask, resized_mask
from .schema import node_schema


def _concat_mask(mask, pixel_frames, samples, vae):
    """The inpainting model's mask: a picture's as it is (ComfyUI resizes it to the latent); a video's at the
    latent's size, each latent frame's pixel frames as its channels [1, ratio, T, h, w] (Wan Fun inpainting's
    layout, where ComfyUI's own conditioning cannot put a spatial mask; other models read its first channel)."""
    if samples.ndim != 5:
        return mask
    latent_frames, height, width = samples.shape[2:]
    frames = mask[:, 0].expand(pixel_frames, -1, -1)
    ratio = temporal_ratio(pixel_frames, latent_frames, vae.temporal_compression_decode())
    frames = frames[:1 + ratio * (latent_frames - 1)]  # the encoder drops the rest
    return frames_as_channels(conditioning_mask(frames, height, width)[:, 0], ratio)[None]


class SoftInpaintModelConditioning(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftInpaintModelConditioning",
            search_aliases=("InpaintModelConditioning", "inpainting model"),
            display_name="Soft Inpaint Model Conditioning",
            category="inpaint/soft inpainting",
            description="InpaintModelConditioning as A1111 does it under soft inpainting, for inpainting models "
            "(SD1.5, SD2, SDXL inpainting, Flux Fill; Wan Fun inpaint for video): the masked picture and the mask "
            "are soft, not rounded. The Soft Latent Blend KSampler and the Soft Inpaint Model Patch hand the model "
            "the unrounded mask (stock samplers round it).",
            inputs=[
                io.Conditioning.Input("positive", tooltip="The positive conditioning to extend."),
                io.Conditioning.Input("negative", tooltip="The negative conditioning to extend."),
                io.Vae.Input("vae", tooltip="Encodes the masked picture and the picture."),
                io.Image.Input("pixels", tooltip="The picture (after any masked-content fill)."),
                io.Mask.Input("mask", tooltip="The inpaint mask (1 = inpaint), soft edges kept."),
                io.Float.Input("mask_strength", default=1.0, min=0.0, max=1.0, step=0.01,
                               tooltip="A1111's inpainting conditioning mask strength: how far the masked area of "
                               "the model's reference picture is greyed out. 0 shows it the whole original."),
                io.Boolean.Input("noise_mask", default=True,
                                 tooltip="Give the latent the mask as its noise mask (needed by the soft sampler "
                                 "unless its mask input is connected)."),
            ],
            outputs=[
                io.Conditioning.Output(display_name="positive"),
                io.Conditioning.Output(display_name="negative"),
                io.Latent.Output(display_name="latent"),
            ],
        )

    @classmethod
    def execute(cls, positive, negative, vae, pixels, mask, mask_strength, noise_mask=True) -> io.NodeOutput:
        pixels = pixels[..., :3]
        mask = checked_mask(mask, pixels.shape[0])
        mask = resized_mask(mask, mask.shape[0], *pixels.shape[1:3])  # ComfyUI's way for a mask of another size
        masked = soft_masked_pixels(pixels, mask[:, 0].to(pixels.device), mask_strength)
        samples = vae.encode(pixels)
        concat_mask = _concat_mask(mask, pixels.shape[0], samples, vae)
        values = {"concat_latent_image": vae.encode(masked), "concat_mask": concat_mask}
        latent = {"samples": samples}
        if noise_mask:
            latent["noise_mask"] = mask
        return io.NodeOutput(node_helpers.conditioning_set_values(positive, values),
                             node_helpers.conditioning_set_values(negative, values), latent)
