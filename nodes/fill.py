"""Soft Inpaint Fill: A1111's "masked content" (fill, original, latent noise, latent nothing) and encoding."""

import comfy.sample
from comfy_api.latest import io

from ..core import fill_masked_latent, fill_masked_pixels, mask_at_size, mask_batch, masks_for_latent
from ..core.tensor_checks import check_count, check_images
from .encoding import encoded
from .schema import node_schema

FILL_MODES = ("fill", "original", "latent noise", "latent nothing")


class SoftInpaintFill(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftInpaintFill",
            search_aliases=("masked content", "latent noise", "latent nothing", "inpaint fill"),
            display_name="Soft Inpaint Fill",
            category="inpaint/soft inpainting",
            description="Encode the picture for inpainting with A1111's masked content: 'fill' paints the hole with "
            "the blurred surrounding colours before encoding, 'original' keeps it, 'latent noise' and 'latent "
            "nothing' fill the pixels the same way and then replace the hole in the latent by A1111's latent "
            "mask. The latent gets the mask as its noise mask.",
            inputs=[
                io.Image.Input("image", tooltip="The picture to inpaint."),
                io.Mask.Input("mask", tooltip="The inpaint mask (1 = inpaint)."),
                io.Vae.Input("vae", tooltip="The VAE that encodes the picture."),
                io.Combo.Input("masked_content", options=list(FILL_MODES), default="original",
                               tooltip="What the masked area starts from."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True,
                             tooltip="The seed of the 'latent noise' fill. Give it the sampler's seed: the fill is "
                             "then the sampler's own initial noise, as in A1111, which uses one seed for both."),
                io.Model.Input("model", optional=True,
                               tooltip="Needed by the latent modes: they fill in the model's scaled latent space."),
            ],
            outputs=[
                io.Latent.Output(display_name="latent", tooltip="The encoded picture with its noise mask."),
                io.Image.Output(display_name="filled_image", tooltip="The picture that was encoded."),
            ],
        )

    @classmethod
    def execute(cls, image, mask, vae, masked_content, seed, model=None) -> io.NodeOutput:
        if masked_content not in FILL_MODES:
            raise ValueError(f"masked_content must be one of {FILL_MODES}, got {masked_content!r}")
        seed = check_count(seed, "seed", 0, 0xFFFFFFFFFFFFFFFF)
        check_images(image, "image")
        pixels = image[..., :3]
        mask = mask_batch(mask, batch=pixels.shape[0], batch_of="image")
        if masked_content != "original":  # A1111 fills the pixels for the latent modes too
            pixels = fill_masked_pixels(pixels, mask_at_size(mask, *pixels.shape[1:3]).to(pixels.device))
        samples = encoded(vae, pixels, "image")
        if masked_content.startswith("latent"):
            samples = cls._fill_latent(samples, mask, masked_content, seed, model)
        return io.NodeOutput({"samples": samples, "noise_mask": mask[:, None]}, pixels)

    @staticmethod
    def _fill_latent(samples, mask, masked_content, seed, model):
        if model is None:
            raise ValueError(f"masked_content '{masked_content}' needs the model input (for its latent scale)")
        latent_format = model.get_model_object("latent_format")
        latent_mask = masks_for_latent(mask, samples.shape).blend.to(samples.device)
        noise = None
        if masked_content == "latent noise":
            noise = comfy.sample.prepare_noise(samples, seed).to(samples.device)
        filled = fill_masked_latent(latent_format.process_in(samples), latent_mask, noise)
        return latent_format.process_out(filled)
