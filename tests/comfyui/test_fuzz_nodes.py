"""Seeded fuzzing of every node's execute in a real ComfyUI, drawn as widely as the core fuzzing.

Tensors (pictures, masks in every ComfyUI layout, latents) come in every float dtype and wrong ones, in
every layout (transposed, channels-last, strided, expanded, requiring grad), with ordinary, extreme and
non-finite values (tests/fuzzing.py); numbers reach from 1e-200 to 10**400, NaN and inf and come as the
wrong types; sizes reach core's bound (MAX_SIZE) and past it; combo inputs take unknown values. A call
through execute skips ComfyUI's own validation, so the node must hold by itself. Every call is classified
as in tests/test_fuzz_core.py: right (the invariants below hold, and where there is a formula it agrees),
clear error (a ValueError/TypeError naming one of the node's inputs that was drawn bad), unclear error or
silent (a wrong or non-finite result, or an input modified). The test fails on any unclear or silent one.

CASES_PER_NODE calls per node in CI (320 in all, some 90 s); SOFT_INPAINT_NODE_FUZZ_CASES sets how many,
SOFT_INPAINT_FUZZ_SEED=n draws other calls. The counts by class are printed at the end.
"""

import math
import os

import fuzz_references as ref
import numpy as np
import pytest
import torch
from fuzzing import CLEAR, NOT_NUMBERS, RIGHT, SILENT, UNCLEAR, Draw, classify, print_counts, require
from helpers import sampling_setup

from core.tensor_checks import MAX_SIZE

CASES_PER_NODE = int(os.environ.get("SOFT_INPAINT_NODE_FUZZ_CASES", 40))
FIRST_SEED = int(os.environ.get("SOFT_INPAINT_FUZZ_SEED", 0))
COUNTS = {}  # node -> outcome -> calls


def _finite(*tensors):
    for tensor in tensors:
        require(isinstance(tensor, torch.Tensor) and bool(torch.isfinite(tensor).all()), "non-finite result")


def _f64(x):
    return x.detach().to(torch.float64)


# --- drawing the node's inputs ---------------------------------------------------------------------------


def _mask(d, batch, height, width, optional=False):
    """A MASK in any of ComfyUI's layouts: [H,W], [B,H,W], [1,H,W] or [B,1,H,W]."""
    shape = d.choice(((batch, height, width), (1, height, width), (height, width), (batch, 1, height, width)))
    return d.mask("mask", shape, optional)


def _unit_mask(mask):
    """The mask as the node reads it: [N,H,W] float32 in 0-1."""
    mask = mask.detach()
    mask = mask[:, 0] if mask.ndim == 4 else mask[None] if mask.ndim == 2 else mask
    return mask.float().clamp(0, 1)


def _number(d, name, good, bad=()):
    return d.number(name, good, (*bad, math.nan, math.inf, -math.inf, 10**400, *NOT_NUMBERS), p_bad=0.12)


def _picture(d, name, shape, encoded=False):
    """A picture; `encoded`: a VAE encodes it, and values near the dtype's largest overflow the VAE."""
    return d.pixels(name, shape, huge_may_fail=encoded)


def _is_tensor(*values):
    return all(isinstance(v, torch.Tensor) for v in values)


PARAMETER_GOOD = {"schedule_bias": (0.0, 8.0, 1.0, 1e-200), "preservation_strength": (0.0, 8.0, 0.5, 1e-200),
                  "transition_contrast_boost": (1.0, 32.0, 4.0), "mask_influence": (0.0, 1.0, 0.5, 1e-200),
                  "difference_threshold": (0.0, 8.0, 0.5, 1e-200), "difference_contrast": (0.0, 8.0, 2.0, 1e-200)}
PARAMETER_BAD = {"schedule_bias": (-0.1, 8.5), "preservation_strength": (-1e-9, 9.0),
                 "transition_contrast_boost": (0.5, 33.0), "mask_influence": (-0.1, 1.1),
                 "difference_threshold": (-1.0, 8.25), "difference_contrast": (-1.0, 9.0)}


def _parameter(d, name):
    return _number(d, name, PARAMETER_GOOD[name], PARAMETER_BAD[name])


# --- one builder per node: (node id, inputs, how to call, what the result must be) -------------------


def _mask_prep(d, env):
    height, width = d.choice((1, 3, 17, 64)), d.choice((1, 5, 33, 64))
    mask = _mask(d, d.choice((1, 2)), height, width)
    blurs = (0.0, 1e-200, 0.5, 4.0, 64.0, 256.0)
    inputs = {"mask": mask, "blur_x": _number(d, "blur_x", blurs, (-1.0, 257.0)),
              "blur_y": _number(d, "blur_y", blurs, (-1.0, 257.0)),
              "rounding": d.choice((False, True)), "invert": d.choice((False, True))}

    def check(result):
        (out,) = result
        _finite(out)
        want = ref.prepare_mask(_f64(_unit_mask(mask)).numpy(), float(inputs["blur_x"]), float(inputs["blur_y"]),
                                inputs["rounding"], inputs["invert"])
        require(out.dtype == torch.float32 and tuple(out.shape) == want.shape, f"shape {tuple(out.shape)}")
        require(np.abs(_f64(out).numpy() - want).max() <= 1e-5, "differs from A1111's mask preparation")
    return "SoftInpaintMaskPrep", inputs, _execute(env, "SoftInpaintMaskPrep"), check


def _crop_and_stitch(d, env):
    batch, height, width = d.choice((1, 2)), d.choice((1, 7, 40, 65)), d.choice((1, 9, 48, 70))
    image = _picture(d, "image", (batch, height, width, d.choice((3, 4))))
    mask = _mask(d, batch, height, width)
    crop_width, crop_height = d.sizes(("width", "height"), (8, 24, 64))
    inputs = {"image": image, "mask": mask, "width": crop_width, "height": crop_height,
              "padding": _number(d, "padding", (0, 4, 1024, MAX_SIZE), (-1, 2.5, MAX_SIZE + 1))}
    stitch = env["nodes"].NODE_CLASS_MAPPINGS["SoftInpaintStitch"]

    def check(result):
        crops, crop_masks, info = result
        _finite(crops, crop_masks)
        require(crops.shape == (batch, crop_height, crop_width, image.shape[-1]), f"crops {tuple(crops.shape)}")
        require(bool(((crop_masks >= 0) & (crop_masks <= 1)).all()), "a crop mask outside 0-1")
        stitched = stitch.execute(crop=info, image=crops[..., :3].clone()).args[0]
        _finite(stitched)
        require(stitched.shape == image.shape, f"stitched {tuple(stitched.shape)}")
        for i, (x1, y1, x2, y2) in enumerate(info.boxes):
            outside = torch.ones(height, width, dtype=torch.bool)
            outside[y1:y2, x1:x2] = False
            require(torch.equal(stitched[i][outside], image[i][outside]), "stitch changed pixels outside the box")
    return "SoftInpaintCrop", inputs, _execute(env, "SoftInpaintCrop"), check


def _composite(d, env):
    batch, latent_h, latent_w = d.choice((1, 2)), d.choice((1, 3, 8)), d.choice((1, 5, 8))
    height, width = latent_h * 8 + d.choice((0, 0, 3, 7)), latent_w * 8 + d.choice((0, 5))
    original = d.values("original_latent", (batch, 4, latent_h, latent_w), huge_may_fail=True, optional=True)
    if d.chance(0.03):  # nothing carries it either: the node asks for it
        original = None
        d.bad("original_latent")
    processed = d.values("inpainted_latent", (batch, 4, latent_h, latent_w), huge_may_fail=True)
    original_image = _picture(d, "original_image", (d.choice((1, batch)), height, width, 3))
    inpainted_image = _picture(d, "inpainted_image", (batch, latent_h * 8, latent_w * 8, 3))
    inputs = {"original_image": original_image, "inpainted_image": inpainted_image,
              "inpainted_latent": {"samples": processed},
              "original_latent": None if original is None else {"samples": original},
              "mask": _mask(d, batch, height, width), "model": env["model"],
              **{name: _parameter(d, name) for name in ("mask_influence", "difference_threshold",
                                                         "difference_contrast")}}

    def check(result):
        image, mask = result
        _finite(image, mask)
        require(image.shape == (batch, height, width, 3) and mask.shape == (batch, height, width),
                 f"shapes {tuple(image.shape)} and {tuple(mask.shape)}")
        require(bool(((mask >= 0) & (mask <= 1)).all()), "a composite mask outside 0-1")
        kept = (mask == 0)[..., None].expand_as(image)
        require(torch.equal(image[kept], original_image.expand_as(image).to(image.dtype)[kept]),
                 "changed the original where the composite mask is 0")
    return "AdaptiveDifferenceComposite", inputs, _execute(env, "AdaptiveDifferenceComposite"), check


def _sampling_inputs(d):
    """The numbers and combos every sampler run takes."""
    return {"seed": _number(d, "seed", (0, 7, 2**64 - 1), (-1, 2**64, 1.5)),
            "steps": _number(d, "steps", (1, 2), (0, -1, 2.5)),
            "cfg": _number(d, "cfg", (0.0, 1.0, 7.5, 100.0, 1e-200), (-1.0, 101.0)),
            "sampler_name": d.number("sampler_name", ("euler", "euler", "dpmpp_2m"), ("nope", None, 3), 0.08),
            "scheduler": d.number("scheduler", ("normal", "karras"), ("nope", None), 0.08)}


def _noise_multiplier(d):
    return _number(d, "initial_noise_multiplier", (0.0, 1.0, 1.5, 1e-200), (-1.0,))


def _sampled_check(samples, mask):
    """A finite latent of the input's shape; where the mask is 0 everywhere the latent is kept."""
    def check(result):
        out = result[0]["samples"]
        _finite(out)
        require(out.shape == samples.shape, f"shape {tuple(out.shape)}")
        if _is_tensor(mask) and bool((_unit_mask(mask) == 0).all()):
            # Older ComfyUIs scale a half-precision latent into the model's space in its own dtype.
            rounding = 1e-4 + 4 * torch.finfo(samples.dtype).eps
            require(torch.allclose(out.double(), samples.double(), rtol=rounding, atol=rounding),
                    "changed a latent whose mask is 0")
    return check


def _sampler(d, env):
    batch, size = d.choice((1, 2)), d.choice((1, 3, 8))
    samples = d.values("latent_image", (batch, 4, size, size), huge_may_fail=True)
    mask = _mask(d, batch, size * 8 + d.choice((0, 5)), size * 8) if d.chance(0.9) else None
    if mask is None:
        d.bad("mask")  # no mask and no noise mask: the sampler asks for one
    inputs = {"model": env["model"], "latent_image": {"samples": samples}, "mask": mask, **_sampling_inputs(d),
              "positive": env["positive"], "negative": env["negative"],
              "denoise": _number(d, "denoise", (1.0, 0.5, 0.0, 1e-3), (-0.1, 1.1, 1e-200)),
              "initial_noise_multiplier": _noise_multiplier(d)}
    return "SoftLatentBlendKSampler", inputs, _execute(env, "SoftLatentBlendKSampler"), _sampled_check(samples, mask)


def _patch(d, env):
    batch, size = d.choice((1, 2)), d.choice((1, 3, 8))
    # The latent is KSampler's input, not the patch's: drawn ordinary.
    samples = torch.randn(batch, 4, size, size, generator=d.generator) * d.choice((1.0, 1e-3, 30.0))
    mask = _mask(d, batch, size * 8, size * 8, optional=True)
    inputs = {"mask": mask, "initial_noise_multiplier": _noise_multiplier(d), "samples": samples}
    patch = env["nodes"].NODE_CLASS_MAPPINGS["SoftInpaintModelPatch"]

    def call(mask, initial_noise_multiplier, samples):
        patched = patch.execute(model=env["model"], mask=mask, initial_noise_multiplier=initial_noise_multiplier)
        noise_mask = _unit_mask(mask) if _is_tensor(mask) and mask.is_floating_point() else torch.ones(1, 8, 8)
        return env["nodes"].common_ksampler(patched.args[0], 1, 1, 5.0, "euler", "normal", env["positive"],
                                            env["negative"], {"samples": samples, "noise_mask": noise_mask})
    return "SoftInpaintModelPatch", inputs, call, _sampled_check(samples, mask)


def _encoded_check(batch, height, width, mask):
    def check(result):
        latent = result[-1] if isinstance(result[-1], dict) else result[0]
        _finite(latent["samples"])
        require(latent["samples"].shape == (batch, 4, height // 8, width // 8), f"{tuple(latent['samples'].shape)}")
        require(torch.equal(latent["noise_mask"].float(), latent["noise_mask"].float().clamp(0, 1)),
                 "a noise mask outside 0-1")
    return check


def _fill(d, env):
    batch, height, width = d.choice((1, 2)), d.choice((8, 21, 64)), d.choice((8, 35, 64))
    mask = _mask(d, batch, height, width)
    masked_content = d.number("masked_content", ("fill", "original", "latent noise", "latent nothing"),
                              ("nope", None, 3), 0.06)
    model = env["model"] if d.chance(0.9) else None
    if model is None and str(masked_content).startswith("latent"):
        d.bad("model")
    inputs = {"image": _picture(d, "image", (batch, height, width, d.choice((3, 4))), encoded=True), "mask": mask,
              "vae": env["vae"], "model": model, "masked_content": masked_content,
              "seed": _number(d, "seed", (0, 2**64 - 1), (-1, 2**64))}
    base = _encoded_check(batch, height, width, mask)

    def check(result):
        base(result)
        filled = result[1]
        _finite(filled)
        require(filled.shape == (batch, height, width, 3), f"filled {tuple(filled.shape)}")
        if masked_content != "original":
            untouched = (_unit_mask(mask) == 0).expand(batch, -1, -1)
            require(torch.equal(filled[untouched], inputs["image"][..., :3].expand_as(filled)[untouched]),
                     "changed the picture where the mask is 0")
    return "SoftInpaintFill", inputs, _execute(env, "SoftInpaintFill"), check


def _model_conditioning(d, env):
    batch, height, width = d.choice((1, 2)), d.choice((8, 21, 64)), d.choice((8, 35, 64))
    mask = _mask(d, batch, height, width)
    inputs = {"positive": env["positive"], "negative": env["negative"], "vae": env["vae"],
              "pixels": _picture(d, "pixels", (batch, height, width, d.choice((3, 4))), encoded=True), "mask": mask,
              "mask_strength": _number(d, "mask_strength", (0.0, 0.5, 1.0, 1e-200), (-0.1, 1.5)),
              "noise_mask": d.choice((True, False))}
    base = _encoded_check(batch, height, width, mask)

    def check(result):
        positive, negative, latent = result
        _finite(latent["samples"])
        for conditioning in (positive, negative):
            _finite(conditioning[0][1]["concat_latent_image"], conditioning[0][1]["concat_mask"])
        if inputs["noise_mask"]:
            base(result)
    return "SoftInpaintModelConditioning", inputs, _execute(env, "SoftInpaintModelConditioning"), check


def _schedule(d, env):
    inputs = {name: _parameter(d, name) for name in ("schedule_bias", "preservation_strength",
                                                       "transition_contrast_boost")}
    inputs["sigma_space"] = d.number("sigma_space", ("sd", "raw"), ("nope", None), 0.06)

    def check(result):
        settings = result[0].settings
        for name in ("schedule_bias", "preservation_strength", "transition_contrast_boost"):
            require(getattr(settings, name) == float(inputs[name]), f"{name} = {getattr(settings, name)!r}")
    return "SoftMaskSchedule", inputs, _execute(env, "SoftMaskSchedule"), check


BUILDERS = (_mask_prep, _crop_and_stitch, _composite, _sampler, _patch, _fill, _model_conditioning, _schedule)


def _execute(env, node_id):
    node = env["nodes"].NODE_CLASS_MAPPINGS[node_id]
    return lambda **inputs: node.execute(**inputs).args


# --- running a call -------------------------------------------------------------------------------------


def _tensors_of(inputs):
    """Every tensor among the inputs (latents are dicts of them), by a path name."""
    found = {}
    for key, value in inputs.items():
        if isinstance(value, torch.Tensor):
            found[key] = value
        elif isinstance(value, dict):
            found.update({f"{key}.{k}": v for k, v in value.items() if isinstance(v, torch.Tensor)})
    return found


def _classify(d, node_id, inputs, call, check):
    outcome, text = classify(d, lambda: call(**inputs), check, _tensors_of(inputs))
    return node_id, outcome, f"{node_id} call {'; '.join(d.notes)}: {text}"


@pytest.fixture(scope="module")
def env(comfy_nodes, sd15):
    model, clip, vae = sd15
    return {**sampling_setup(comfy_nodes, model, clip), "vae": vae}


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda builder: builder.__name__[1:])
def test_fuzz_node(env, builder):
    failures = []
    first = 1_000 * BUILDERS.index(builder) + FIRST_SEED * 1_000_003
    for seed in range(first, first + CASES_PER_NODE):
        d = Draw(seed)
        node_id, outcome, description = _classify(d, *builder(d, env))
        counts = COUNTS.setdefault(node_id, {})
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome in (UNCLEAR, SILENT):
            failures.append(f"{outcome}: case {seed}: {description}")
    assert not failures, f"{len(failures)} of {CASES_PER_NODE} calls failed:\n" + "\n".join(failures[:8])


def test_fuzz_summary(request):
    """Print how many calls ran and how each ended (past pytest's capture: the lead quotes the counts)."""
    if not COUNTS:
        pytest.skip("no node was fuzzed: the fuzz tests need COMFYUI_PATH")
    totals = print_counts(request, "node fuzzing, calls by node", COUNTS)
    assert totals[RIGHT] and totals[CLEAR]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
