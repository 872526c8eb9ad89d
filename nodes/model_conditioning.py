"""Soft Inpaint Model Conditioning: A1111's conditioning of inpainting models under soft inpainting."""

import node_helpers  # ComfyUI's own module
from comfy_api.latest import io

from ..core import mask_at_size, mask_batch, soft_masked_pixels, video_model_mask
from ..core.tensor_checks import check_images, check_range
from .encoding import encoded
from .schema import node_schema


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
        mask_strength = check_range(mask_strength, "mask_strength", 0, 1)  # core calls it strength
        check_images(pixels, "pixels")
        pixels = pixels[..., :3]
        mask = mask_at_size(mask_batch(mask, batch=pixels.shape[0], batch_of="pixels"), *pixels.shape[1:3])
        masked = soft_masked_pixels(pixels, mask.to(pixels.device), mask_strength)
        samples = encoded(vae, pixels, "pixels")
        concat_mask = mask[:, None]  # a picture's: ComfyUI resizes it to the latent
        if samples.ndim == 5:  # a video's pixel frames, as Wan's Fun inpainting models take them
            concat_mask = video_model_mask(mask, pixels.shape[0], samples.shape, vae.temporal_compression_decode())
        values = {"concat_latent_image": encoded(vae, masked, "pixels"), "concat_mask": concat_mask}
        latent = {"samples": samples}
        if noise_mask:
            latent["noise_mask"] = mask[:, None]
        return io.NodeOutput(node_helpers.conditioning_set_values(positive, values),
                             node_helpers.conditioning_set_values(negative, values), latent)
