"""Soft Inpaint Mask Prep: A1111's mask blur x/y, rounding and invert."""

from comfy_api.latest import io

from ..core import mask_batch, prepare_mask
from .schema import node_schema


def _blur_input(axis: str) -> io.Float.Input:
    return io.Float.Input(
        f"blur_{axis}", default=4.0, min=0.0, max=64.0, step=0.5,
        tooltip=f"A1111's mask blur along {axis}: the Gaussian's sigma in pixels (kernel 2*int(2.5*sigma+0.5)+1). "
        "Soft inpainting likes a generous blur.",
    )


class SoftInpaintMaskPrep(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftInpaintMaskPrep",
            search_aliases=("mask blur", "feather mask"),
            display_name="Soft Inpaint Mask Prep",
            category="inpaint/soft inpainting",
            description="A1111's mask options, in A1111's order: rounding, invert, then blur in x and y.",
            inputs=[
                io.Mask.Input("mask", tooltip="The inpaint mask (1 = inpaint)."),
                _blur_input("x"),
                _blur_input("y"),
                io.Boolean.Input("rounding", default=False,
                                 tooltip="Binarise the mask first (A1111's mask rounding). Soft inpainting "
                                 "turns it off to keep soft edges."),
                io.Boolean.Input("invert", default=False, tooltip="Inpaint what is not masked."),
            ],
            outputs=[io.Mask.Output(display_name="mask")],
        )

    @classmethod
    def execute(cls, mask, blur_x, blur_y, rounding, invert) -> io.NodeOutput:
        return io.NodeOutput(prepare_mask(mask_batch(mask), blur_x, blur_y, rounding, invert))
