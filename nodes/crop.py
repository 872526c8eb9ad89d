"""Soft Inpaint Crop and Stitch: A1111's "inpaint only masked"."""

from comfy_api.latest import io

from ..core import crop_around_masks, stitch_crops
from .pack_types import SoftInpaintCropType
from .schema import node_schema


class SoftInpaintCrop(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftInpaintCrop",
            search_aliases=("only masked", "inpaint crop", "crop mask"),
            display_name="Soft Inpaint Crop (only masked)",
            category="inpaint/soft inpainting",
            description="A1111's 'inpaint only masked': crop each picture around its mask (plus padding, grown to "
            "the working aspect) and resize the crop to the working size. Stitch the result back with Soft "
            "Inpaint Stitch.",
            inputs=[
                io.Image.Input("image", tooltip="The full picture."),
                io.Mask.Input("mask", tooltip="The inpaint mask over the full picture."),
                io.Int.Input("width", default=512, min=8, max=8192, step=8, tooltip="Working width of the crop."),
                io.Int.Input("height", default=512, min=8, max=8192, step=8, tooltip="Working height of the crop."),
                io.Int.Input("padding", default=32, min=0, max=1024, step=1,
                             tooltip="Pixels of context around the mask (A1111's only masked padding)."),
            ],
            outputs=[
                io.Image.Output(display_name="image", tooltip="The crops at the working size."),
                io.Mask.Output(display_name="mask", tooltip="The mask crops at the working size."),
                SoftInpaintCropType.Output(display_name="crop", tooltip="Where the crops came from, for Stitch."),
            ],
        )

    @classmethod
    def execute(cls, image, mask, width, height, padding) -> io.NodeOutput:
        return io.NodeOutput(*crop_around_masks(image, mask, width, height, padding))


class SoftInpaintStitch(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return node_schema(
            node_id="SoftInpaintStitch",
            search_aliases=("only masked", "inpaint stitch", "paste back"),
            display_name="Soft Inpaint Stitch (only masked)",
            category="inpaint/soft inpainting",
            description="Paste inpainted crops back into the full pictures through the mask given to Soft Inpaint "
            "Crop (A1111's plain only masked). For soft inpainting, connect the crop to the Adaptive Difference "
            "Composite instead: it pastes through its compositing mask, once. Pixels outside each crop, and "
            "wherever the mask is 0, stay exactly as they were.",
            inputs=[
                SoftInpaintCropType.Input("crop", tooltip="From Soft Inpaint Crop."),
                io.Image.Input("image", tooltip="The decoded crops at the working size."),
            ],
            outputs=[io.Image.Output(display_name="image", tooltip="The full pictures.")],
        )

    @classmethod
    def execute(cls, crop, image) -> io.NodeOutput:
        return io.NodeOutput(stitch_crops(crop, image))
