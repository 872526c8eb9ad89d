"""The node ids this pack registers."""

PACK_NODE_IDS = ("SoftMaskSchedule", "SoftLatentBlendKSampler", "SoftInpaintModelPatch", "AdaptiveDifferenceComposite",
                 "SoftInpaintMaskPrep", "SoftInpaintFill", "SoftInpaintCrop", "SoftInpaintStitch",
                 "SoftInpaintModelConditioning")
