"""Build a tiny, randomly initialised SD1.5-style checkpoint for ComfyUI tests.

`build_tiny_checkpoint(path, kind="sd15", seed=0)` writes a single `.safetensors` file in the
original (LDM) checkpoint layout that ComfyUI's stock `CheckpointLoaderSimple`
(`comfy.sd.load_checkpoint_guess_config`) loads as an SD1.5 model (`kind="sd15"`) or as an SD1.5
9-channel inpainting model (`kind="sd15_inpaint"`), with its CLIP and VAE, and without any
"missing"/"unexpected" key warnings (only the debug-level "clip missing: logit_scale,
text_projection" that real SD1.5 checkpoints also give). The file is ~180 MB and takes ~1-2 s to
build. The weights are random, so images are noise; the point is to exercise the real loading,
conditioning, sampling and VAE code paths quickly on CPU.

Why it is small yet still detected as SD1.5:
- UNet (`model.diffusion_model.*`, float16): ComfyUI recognises SD1.5 by model_channels=320,
  context_dim=768, non-linear proj_in, no label embedding; everything else (levels, res blocks,
  transformer depths, in_channels) is read from the weights. So we store one level with one res
  block + one cross-attention transformer block in each of the input, middle and output parts
  instead of SD1.5's four levels: about 26M parameters instead of 860M, and no downsampling, so
  4 euler steps on a 64x64 image (8x8 latent) take a fraction of a second on CPU.
- Text encoder (`cond_stage_model.transformer.text_model.*`): ComfyUI builds SD1.5's CLIP-L from a
  fixed config (12 layers, 49408-token vocabulary) whatever the file holds, so every CLIP-L weight
  must be present; they are stored as float8_e4m3fn (ComfyUI casts them to its text-encoder dtype
  on load) to halve the file, or as float16 with `text_encoder_dtype=torch.float16`.
- VAE (`first_stage_model.*`): TAESD's layout, which ComfyUI's VAE detection accepts inside a
  checkpoint (it keys on `taesd_decoder.1.weight`), with `vae_scale`=1 and `vae_shift`=0.

Every tensor gets a value from a `torch.Generator` seeded by `seed` (ComfyUI leaves weights
uninitialised): matrices/convolutions normal with std 1/sqrt(fan_in) so activations keep their
scale, embeddings normal with std 0.02, norm weights 1, biases 0, and the TAESD decoder's output
bias 0.5 so decoded images are centred on mid-grey rather than half clipped to black. Same seed,
same bytes.

comfy is imported inside the function only: the caller must have put ComfyUI on sys.path and set
`comfy.cli_args.args.cpu = True` (if wanted) before anything imports comfy.model_management.
"""

import math

KINDS = {"sd15": 4, "sd15_inpaint": 9}  # kind -> UNet in_channels


def _unet_keys(in_channels):
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    unet = UNetModel(
        image_size=32, in_channels=in_channels, out_channels=4, model_channels=320,
        num_res_blocks=[1], channel_mult=[1], transformer_depth=[1], transformer_depth_output=[1, 1],
        transformer_depth_middle=1, num_heads=8, num_head_channels=-1, context_dim=768,
        use_spatial_transformer=True, use_linear_in_transformer=False, legacy=False,
        device="meta", operations=comfy.ops.disable_weight_init,
    )
    return {"model.diffusion_model." + k: v.shape for k, v in unet.state_dict().items()}


def _clip_keys():
    import comfy.sd1_clip

    clip = comfy.sd1_clip.SD1CheckpointClipModel(device="meta")
    # Real SD1.5 checkpoints hold neither of these; ComfyUI expects them to be absent (debug log only).
    skip = ("transformer.text_projection.weight", "logit_scale")
    return {"cond_stage_model." + k: v.shape for k, v in clip.state_dict().items() if k not in skip}


def _vae_keys():
    import comfy.taesd.taesd

    vae = comfy.taesd.taesd.TAESD(latent_channels=4)
    return {"first_stage_model." + k: v.shape for k, v in vae.state_dict().items()}


def _init(key, shape, gen):
    import torch

    name = key.rsplit(".", 1)[-1]
    if key.endswith("vae_scale"):
        return torch.ones(shape)
    if key.endswith("vae_shift"):
        return torch.zeros(shape)
    if key == "first_stage_model.taesd_decoder.19.bias":  # final conv(64, 3): centre images on grey
        return torch.full(shape, 0.5)
    if name == "bias":
        return torch.zeros(shape)
    if len(shape) == 1:  # GroupNorm / LayerNorm weights
        return torch.ones(shape)
    if key.endswith("_embedding.weight"):  # CLIP token / position embeddings
        return torch.randn(shape, generator=gen) * 0.02
    fan_in = math.prod(shape[1:])
    return torch.randn(shape, generator=gen) / math.sqrt(fan_in)


def build_tiny_checkpoint(path, kind="sd15", seed=0, text_encoder_dtype=None):
    """Write a tiny random SD1.5 (`kind="sd15"`) or SD1.5-inpainting (`kind="sd15_inpaint"`)
    checkpoint to `path` (a `.safetensors` file) and return `path`. Deterministic for a given seed.
    `text_encoder_dtype` defaults to torch.float8_e4m3fn (smallest file); torch.float16 also works."""
    import torch
    from safetensors.torch import save_file

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
    te_dtype = torch.float8_e4m3fn if text_encoder_dtype is None else text_encoder_dtype

    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for keys, dtype in ((_unet_keys(KINDS[kind]), torch.float16), (_clip_keys(), te_dtype),
                        (_vae_keys(), torch.float16)):
        for key in sorted(keys):
            tensors[key] = _init(key, tuple(keys[key]), gen).to(dtype).contiguous()
    save_file(tensors, str(path), metadata={"format": "pt"})
    return path
