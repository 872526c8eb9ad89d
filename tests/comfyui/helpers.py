"""What many ComfyUI tests do: a node by its id, text conditioning, a soft or a stock sample, and the
properties every soft sample must have.

A `setup` is a dict with the ComfyUI `nodes` module, a `model`, its `positive` and `negative` conditioning
and a default `latent`, as the tests' fixtures build it.
"""

import torch

STEPS = 4
CFG = 5.0


def node(comfy_nodes, node_id):
    return comfy_nodes.NODE_CLASS_MAPPINGS[node_id]


def text_conditioning(comfy_nodes, clip) -> tuple:
    """(positive, negative) as CLIPTextEncode makes them."""
    encode = node(comfy_nodes, "CLIPTextEncode")()
    return encode.encode(clip, "a red brick wall")[0], encode.encode(clip, "blurry")[0]


def sampling_setup(comfy_nodes, model, clip, latent=None) -> dict:
    positive, negative = text_conditioning(comfy_nodes, clip)
    return {"nodes": comfy_nodes, "model": model, "positive": positive, "negative": negative, "latent": latent}


def soft_sample(setup, mask=None, latent=None, sampler="euler", scheduler="normal", denoise=1.0, model=None,
                seed=1, steps=STEPS, cfg=CFG, **optional):
    """The Soft Latent Blend KSampler's output latent; `optional` are its optional inputs (schedule...)."""
    return node(setup["nodes"], "SoftLatentBlendKSampler").execute(
        model=model or setup["model"], seed=seed, steps=steps, cfg=cfg, sampler_name=sampler, scheduler=scheduler,
        positive=setup["positive"], negative=setup["negative"], latent_image=latent or setup["latent"],
        denoise=denoise, mask=mask, **optional,
    ).args[0]


def stock_sample(setup, latent=None, sampler="euler", scheduler="normal", denoise=1.0, model=None, seed=1,
                 steps=STEPS, cfg=CFG):
    """ComfyUI's own KSampler (with the latent's noise mask, if it has one)."""
    return setup["nodes"].common_ksampler(
        model or setup["model"], seed, steps, cfg, sampler, scheduler, setup["positive"], setup["negative"],
        latent or setup["latent"], denoise=denoise,
    )[0]


def assert_one_mask_equals_stock(setup, pixels):
    """An all-one mask of pixels x pixels gives the stock sampler's result without a mask."""
    soft = soft_sample(setup, mask=torch.ones(1, pixels, pixels))["samples"]
    stock = stock_sample(setup)["samples"]
    assert not torch.allclose(stock, setup["latent"]["samples"], atol=1e-2)  # the model did change it
    torch.testing.assert_close(soft, stock, rtol=1e-3, atol=1e-4)


def assert_half_mask_lies_between(setup, pixels):
    """A mask of 0.5 everywhere changes the latent less than stock sampling, but clearly changes it."""
    original = setup["latent"]["samples"]
    full = stock_sample(setup)["samples"]
    soft = soft_sample(setup, mask=torch.full((1, pixels, pixels), 0.5))["samples"]
    assert 0.05 * (full - original).norm() < (soft - original).norm() < (full - original).norm()
