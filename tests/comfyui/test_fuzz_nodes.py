"""Seeded fuzzing of the nodes' execute in a real ComfyUI: random shapes, sizes, dtypes, masks and values.

Every case either returns finite results of the right shape with its inputs unmodified, or raises a
ValueError/TypeError whose message names one of the node's inputs.
"""

import math
import random

import pytest
import torch

CASES_PER_NODE = 40
SUMMARY = {}


def _node(comfy_nodes, node_id):
    return comfy_nodes.NODE_CLASS_MAPPINGS[node_id]


def _mask(rng, batch, height, width):
    """A random MASK: any layout ComfyUI uses, soft or hard, bool, a hair outside 0-1, empty, or NaN."""
    kind = rng.choice(["soft", "zeros", "ones", "bool", "overshoot", "hard", "nan", "empty", "flat"])
    shape = rng.choice([(batch, height, width), (1, height, width), (height, width), (batch, 1, height, width)])
    if kind == "empty":
        return torch.zeros(batch, 0, width)
    mask = torch.rand(shape, generator=torch.Generator().manual_seed(rng.randrange(1 << 30)))
    if kind == "zeros":
        mask = torch.zeros(shape)
    elif kind == "ones":
        mask = torch.ones(shape)
    elif kind == "bool":
        mask = mask > 0.5
    elif kind == "overshoot":
        mask = mask * 1.1 - 0.05
    elif kind == "hard":
        mask = mask.round()
    elif kind == "nan":
        mask[..., 0, 0] = math.nan
    elif kind == "flat":
        mask = torch.full(shape, rng.choice([1e-6, 1 - 1e-6, 0.5]))
    return mask


def _check(node_id, call, inputs, names, check_result):
    """Run one case; return "ok" or "clear error"; fail on anything else."""
    before = {key: value.clone() for key, value in inputs.items() if isinstance(value, torch.Tensor)}
    try:
        result = call(**inputs)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert any(name in message for name in names), f"{node_id}: unclear error {message!r} for {_describe(inputs)}"
        outcome = "clear error"
    else:
        check_result(result)
        outcome = "ok"
    for key, value in before.items():
        assert torch.equal(inputs[key].nan_to_num(), value.nan_to_num()), f"{node_id} modified its input {key}"
    SUMMARY[(node_id, outcome)] = SUMMARY.get((node_id, outcome), 0) + 1
    return outcome


def _run(node):
    return lambda **inputs: node.execute(**inputs).args


def _describe(inputs):
    return {key: (tuple(v.shape), v.dtype) if isinstance(v, torch.Tensor) else v for key, v in inputs.items()}


def _finite(*tensors):
    for tensor in tensors:
        assert torch.isfinite(tensor.float()).all(), "non-finite result"


def test_fuzz_mask_prep(comfy_nodes):
    rng = random.Random(1)
    node = _node(comfy_nodes, "SoftInpaintMaskPrep")
    for _ in range(CASES_PER_NODE):
        height, width = rng.choice([1, 3, 17, 64]), rng.choice([1, 5, 33, 64])
        mask = _mask(rng, rng.choice([1, 2]), height, width)
        inputs = {"mask": mask, "blur_x": rng.choice([0.0, 0.5, 4.0, 64.0]), "blur_y": rng.choice([0.0, 2.0, 64.0]),
                  "rounding": rng.random() < 0.5, "invert": rng.random() < 0.5}

        def check(result, mask=mask):
            _finite(result[0])
            assert result[0].shape[-2:] == mask.shape[-2:] and result[0].dtype == torch.float32
            assert 0 <= result[0].min() and result[0].max() <= 1

        _check("SoftInpaintMaskPrep", _run(node), inputs, ["mask"], check)


def test_fuzz_crop_and_stitch(comfy_nodes):
    rng = random.Random(2)
    crop_node, stitch_node = _node(comfy_nodes, "SoftInpaintCrop"), _node(comfy_nodes, "SoftInpaintStitch")
    for _ in range(CASES_PER_NODE):
        batch, height, width = rng.choice([1, 2]), rng.choice([1, 7, 40, 65]), rng.choice([1, 9, 48, 70])
        image = torch.rand(batch, height, width, rng.choice([3, 4]))
        inputs = {"image": image, "mask": _mask(rng, batch, height, width), "width": rng.choice([8, 24, 64]),
                  "height": rng.choice([8, 32, 64]), "padding": rng.choice([0, 4, 1024])}

        def check(result, inputs=inputs):
            crops, crop_masks, info = result
            _finite(crops, crop_masks)
            assert crops.shape == (inputs["image"].shape[0], inputs["height"], inputs["width"],
                                   inputs["image"].shape[-1])
            stitched = stitch_node.execute(crop=info, image=crops[..., :3].clone()).args[0]
            _finite(stitched)
            assert stitched.shape == inputs["image"].shape

        _check("SoftInpaintCrop", _run(crop_node), inputs, ["mask", "image"], check)


def test_fuzz_composite(comfy_nodes, sd15):
    rng = random.Random(3)
    model = sd15[0]
    node = _node(comfy_nodes, "AdaptiveDifferenceComposite")
    for _ in range(CASES_PER_NODE):
        batch, latent_h, latent_w = rng.choice([1, 2]), rng.choice([1, 3, 8]), rng.choice([1, 5, 8])
        extra_h, extra_w = rng.choice([0, 0, 3, 7]), rng.choice([0, 5])
        height, width = latent_h * 8 + extra_h, latent_w * 8 + extra_w
        dtype = rng.choice([torch.float32, torch.float16, torch.bfloat16])
        scale = rng.choice([1.0, 1e-4, 100.0])
        original = torch.randn(batch, 4, latent_h, latent_w) * scale
        processed = (original + torch.randn_like(original) * rng.choice([0.0, 1.0, 10.0])).to(dtype)
        inputs = {"original_image": torch.rand(rng.choice([1, batch]), height, width, 3),
                  "inpainted_image": torch.rand(batch, latent_h * 8, latent_w * 8, 3).to(dtype),
                  "inpainted_latent": {"samples": processed}, "original_latent": {"samples": original.to(dtype)},
                  "mask": _mask(rng, batch, height, width), "model": model,
                  "mask_influence": rng.choice([0.0, 1.0]), "difference_threshold": rng.choice([0.0, 0.5, 8.0]),
                  "difference_contrast": rng.choice([0.0, 2.0, 8.0])}

        def check(result, height=height, width=width, batch=batch):
            image, mask = result
            _finite(image, mask)
            assert image.shape == (batch, height, width, 3) and mask.shape == (batch, height, width)

        _check("AdaptiveDifferenceComposite", _run(node), inputs,
               ["mask", "original_image", "inpainted_image", "inpainted_latent", "original_latent"], check)


def test_fuzz_soft_sampler_and_patch(comfy_nodes, sd15):
    rng = random.Random(4)
    model, clip, vae = sd15
    encode = comfy_nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, "a wall")[0], encode.encode(clip, "")[0]
    sampler, patch = _node(comfy_nodes, "SoftLatentBlendKSampler"), _node(comfy_nodes, "SoftInpaintModelPatch")
    for case in range(CASES_PER_NODE // 2):
        batch, size = rng.choice([1, 2]), rng.choice([1, 3, 8])
        samples = torch.randn(batch, 4, size, size) * rng.choice([1.0, 1e-3, 30.0])
        mask = _mask(rng, batch, size * 8 + rng.choice([0, 5]), size * 8)
        common = {"seed": case, "steps": 1, "cfg": rng.choice([1.0, 5.0]), "sampler_name": "euler",
                  "scheduler": "normal", "positive": positive, "negative": negative, "denoise": 1.0}

        def check(result, batch=batch, size=size):
            _finite(result[0]["samples"])
            assert result[0]["samples"].shape == (batch, 4, size, size)

        inputs = {"model": model, "latent_image": {"samples": samples}, "mask": mask, **common}
        _check("SoftLatentBlendKSampler", _run(sampler), inputs, ["mask"], check)

        def patched(samples, noise_mask, mask, seed, cfg):
            model_patched = patch.execute(model=model, mask=mask).args[0]
            return comfy_nodes.common_ksampler(model_patched, seed, 1, cfg, "euler", "normal", positive, negative,
                                               {"samples": samples, "noise_mask": noise_mask})

        inputs = {"samples": samples, "noise_mask": mask.float().nan_to_num().clamp(0, 1), "mask": mask,
                  "seed": case, "cfg": common["cfg"]}
        _check("SoftInpaintModelPatch", patched, inputs, ["mask"], check)


def test_fuzz_fill_and_model_conditioning(comfy_nodes, sd15):
    rng = random.Random(5)
    model, clip, vae = sd15
    conditioning = comfy_nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]().encode(clip, "a wall")[0]
    fill, conditioned = _node(comfy_nodes, "SoftInpaintFill"), _node(comfy_nodes, "SoftInpaintModelConditioning")
    for case in range(CASES_PER_NODE // 2):
        batch, height, width = rng.choice([1, 2]), rng.choice([8, 21, 64]), rng.choice([8, 35, 64])
        image = torch.rand(batch, height, width, rng.choice([3, 4]))
        mask = _mask(rng, batch, height, width)

        def check(result, batch=batch, height=height, width=width):
            latent = result[-1] if isinstance(result[-1], dict) else result[0]
            _finite(latent["samples"])
            assert latent["samples"].shape == (batch, 4, height // 8, width // 8)

        inputs = {"image": image, "mask": mask, "vae": vae, "model": model, "seed": case,
                  "masked_content": rng.choice(["fill", "original", "latent noise", "latent nothing"])}
        _check("SoftInpaintFill", _run(fill), inputs, ["mask", "image"], check)
        inputs = {"positive": conditioning, "negative": conditioning, "vae": vae, "pixels": image, "mask": mask,
                  "mask_strength": rng.choice([0.0, 0.5, 1.0]), "noise_mask": True}
        _check("SoftInpaintModelConditioning", _run(conditioned), inputs, ["mask", "pixels"], check)


def test_fuzz_summary():
    """Print how many cases ran and how each ended (read with -s or in the closing note)."""
    if not SUMMARY:
        pytest.skip("no node was fuzzed: the fuzz tests need COMFYUI_PATH")
    total = sum(SUMMARY.values())
    print(f"\nnode fuzz: {total} cases: " + ", ".join(f"{node} {outcome}: {n}" for (node, outcome), n in
                                                    sorted(SUMMARY.items())))
    assert any(outcome == "ok" for _, outcome in SUMMARY) and any(outcome == "clear error" for _, outcome in SUMMARY)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
