"""The pack's ComfyUI extension: the list of its nodes."""

from comfy_api.latest import ComfyExtension, io

from .composite import AdaptiveDifferenceComposite
from .crop import SoftInpaintCrop, SoftInpaintStitch
from .fill import SoftInpaintFill
from .mask_prep import SoftInpaintMaskPrep
from .model_conditioning import SoftInpaintModelConditioning
from .sampler import SoftInpaintModelPatch, SoftLatentBlendKSampler
from .schedule import SoftMaskSchedule


class SoftInpaintingExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [
            SoftMaskSchedule,
            SoftLatentBlendKSampler,
            SoftInpaintModelPatch,
            AdaptiveDifferenceComposite,
            SoftInpaintMaskPrep,
            SoftInpaintFill,
            SoftInpaintCrop,
            SoftInpaintStitch,
            SoftInpaintModelConditioning,
        ]


async def comfy_entrypoint() -> SoftInpaintingExtension:
    return SoftInpaintingExtension()
