"""A test-only custom node: the conditioning a text encoder gives, drawn at random in the width a model takes.

Qwen-Image's text encoder (Qwen2.5-VL 7B, 3584 wide) is built by ComfyUI from a fixed configuration, far too
large to build in a test, and no smaller encoder gives its width. The tests' ComfyUI server loads this node beside
the pack, so that the Qwen-Image example graph runs over HTTP with its text encoder nodes swapped for this one.
"""

import torch


class StandInTextConditioning:
    """CONDITIONING of `tokens` random vectors of `width` features (no pooled output), seeded."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"width": ("INT", {"default": 3584, "min": 1, "max": 8192}),
                             "tokens": ("INT", {"default": 8, "min": 1, "max": 512}),
                             "seed": ("INT", {"default": 0, "min": 0, "max": 2**31 - 1})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "conditioning"
    CATEGORY = "testing"

    def conditioning(self, width, tokens, seed):
        vectors = torch.randn(1, tokens, width, generator=torch.Generator().manual_seed(seed))
        return ([[vectors, {}]],)


NODE_CLASS_MAPPINGS = {"StandInTextConditioning": StandInTextConditioning}
