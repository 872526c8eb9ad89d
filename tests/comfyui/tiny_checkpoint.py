"""Build a tiny, randomly initialised SD1.5- or SD3-style checkpoint for ComfyUI tests.

`build_tiny_checkpoint(path, kind="sd15", seed=0)` writes a single `.safetensors` file in the
original (LDM) checkpoint layout that ComfyUI's stock `CheckpointLoaderSimple`
(`comfy.sd.load_checkpoint_guess_config`) loads, with its CLIP and VAE, and without any
"missing"/"unexpected" key warnings:
- `kind="sd15"`: an SD1.5 model (eps prediction, 4-channel latents). ~180 MB, ~1-2 s to build.
- `kind="sd15_inpaint"`: an SD1.5 9-channel inpainting model. ~180 MB.
- `kind="sd3"`: an SD3 (MMDiT) flow-matching model: model_sampling ModelSamplingDiscreteFlow +
  CONST (sigmas in 0..1, shift 3), 16-channel latents, latent format SD3 (scale_factor 1.5305,
  shift_factor 0.0609). ~130 MB.
The only log messages about keys are at debug level: "clip missing: [...logit_scale,
...text_projection.weight]", which real SD1.5/SD3 checkpoints also give. The weights are random, so
images are noise; the point is to exercise the real loading, conditioning, sampling and VAE code
paths quickly on CPU.

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

Why it is small yet still detected as SD3:
- MMDiT (`model.diffusion_model.*`, float16): ComfyUI takes any `joint_blocks.0.context_block.
  attn.qkv.weight` as an MMDiT and reads its whole config from the weights: in_channels and
  patch size from `x_embedder.proj.weight`, depth = hidden size / 64 (one 64-wide head per block),
  adm_in_channels from `y_embedder`, the context embedder from `context_embedder.weight`,
  pos_embed_max_size from `pos_embed`; in_channels=16 then selects the SD3 model config. So we
  store depth 1 (hidden size 64, one joint block, which is also the last, "pre-only" one), patch
  size 2, the SD3-medium layout (no qk-norm, no second x-block attention), a 4096->64 context
  embedder and a 2048->64 pooled embedder (what ComfyUI's SD3 text encoder produces), and a 64x64
  patch position table (latents up to 128x128, i.e. images up to 1024x1024): under 1M parameters.
- Text encoder (`text_encoders.clip_l.transformer.text_model.*`, float8_e4m3fn like sd15's): ComfyUI
  builds only the SD3 encoders whose `final_layer_norm` it finds, so the file holds CLIP-L alone,
  the smallest of the three (no CLIP-G, no T5-XXL). CLIPTextEncode then gives CLIP-L's penultimate
  hidden states zero-padded to 4096 features (1x77x4096) and a 2048-wide pooled output (CLIP-L's
  768 + 1280 zeros standing in for CLIP-G), exactly the shapes the MMDiT above takes.
- VAE (`first_stage_model.*`): TAESD's layout with 16 latent channels (ComfyUI reads the channel
  count from `taesd_decoder.1.weight`), `vae_scale`=1, `vae_shift`=0.

Wan 2.1 (video): `build_tiny_wan_model(path, seed)` and `build_tiny_wan_vae(path, seed)` write the two
separate files a real Wan graph loads (UNETLoader, VAELoader), without prefixes as ComfyUI's repackaged
files are:
- Diffusion model: ComfyUI takes any `head.modulation` as Wan 2.1 and reads the rest from the weights
  (dim from the modulation, heads = dim / 128, ffn width, block count, in_dim 16 and no `img_emb`: T2V).
  So we store dim 128 (one head), one block and an ffn width of 256, with Wan's 4096-wide text
  embedding: ~1M parameters. Its latent format is Wan21 (16 channels, flow, shift 8).
- VAE: ComfyUI takes `decoder.middle.0.residual.0.gamma` (without the 2.2 upsampler key) as the Wan 2.1
  VAE, a causal 3-D VAE (first frame alone, then 4 frames per latent frame, 8x spatially) whose only
  size read from the weights is `dim` (from `decoder.head.0.gamma`): dim 8 instead of 96.
The text encoder (UMT5-XXL) is far too large; tests build the cross-attention input themselves
([1, tokens, 4096]) or take a tiny 4096-wide CLIP-L from the SD3 checkpoint.

Every tensor gets a value from a `torch.Generator` seeded by `seed` (ComfyUI leaves weights
uninitialised): matrices/convolutions normal with std 1/sqrt(fan_in) so activations keep their
scale, embeddings (CLIP token/position, MMDiT position table) normal with std 0.02, norm weights 1,
biases 0, and the TAESD decoder's output bias 0.5 so decoded images are centred on mid-grey rather
than half clipped to black. Same seed, same bytes.

comfy is imported inside the functions only: the caller must have put ComfyUI on sys.path and set
`comfy.cli_args.args.cpu = True` (if wanted) before anything imports comfy.model_management.
"""

import math

KINDS = ("sd15", "sd15_inpaint", "sd3")

# SD3: MMDiT hidden size = 64 * depth; ComfyUI's SD3 text encoder output sizes.
_SD3_DEPTH = 1
_SD3_POS_EMBED_MAX_SIZE = 64  # in patches of 2x2 latent pixels
_SD3_CONTEXT_DIM = 4096
_SD3_POOLED_DIM = 2048


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


def _mmdit_keys():
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.mmdit import MMDiT

    hidden = 64 * _SD3_DEPTH
    mmdit = MMDiT(
        input_size=None, patch_size=2, in_channels=16, out_channels=16, depth=_SD3_DEPTH,
        adm_in_channels=_SD3_POOLED_DIM,
        context_embedder_config={"target": "torch.nn.Linear",
                                 "params": {"in_features": _SD3_CONTEXT_DIM, "out_features": hidden}},
        num_patches=_SD3_POS_EMBED_MAX_SIZE ** 2, pos_embed_max_size=_SD3_POS_EMBED_MAX_SIZE,
        device="meta", operations=comfy.ops.disable_weight_init,
    )
    return {"model.diffusion_model." + k: v.shape for k, v in mmdit.state_dict().items()}


def _clip_keys():
    import comfy.sd1_clip

    clip = comfy.sd1_clip.SD1CheckpointClipModel(device="meta")
    # Real SD1.5 checkpoints hold neither of these; ComfyUI expects them to be absent (debug log only).
    skip = ("transformer.text_projection.weight", "logit_scale")
    return {"cond_stage_model." + k: v.shape for k, v in clip.state_dict().items() if k not in skip}


def _sd3_clip_keys():
    import comfy.text_encoders.sd3_clip

    clip = comfy.text_encoders.sd3_clip.SD3ClipModel(clip_l=True, clip_g=False, t5=False, device="meta")
    # As for SD1.5: ComfyUI tolerates these two being absent (debug log only); SD3 does not use them.
    skip = ("clip_l.transformer.text_projection.weight", "clip_l.logit_scale")
    return {"text_encoders." + k: v.shape for k, v in clip.state_dict().items() if k not in skip}


def _vae_keys(latent_channels):
    import comfy.taesd.taesd

    vae = comfy.taesd.taesd.TAESD(latent_channels=latent_channels)
    return {"first_stage_model." + k: v.shape for k, v in vae.state_dict().items()}


_WAN_DIM = 128  # one 128-wide attention head
_WAN_VAE_DIM = 8


def _wan_model_keys():
    import comfy.ops
    from comfy.ldm.wan.model import WanModel

    model = WanModel(model_type="t2v", patch_size=(1, 2, 2), in_dim=16, dim=_WAN_DIM, ffn_dim=2 * _WAN_DIM,
                     freq_dim=256, text_dim=4096, out_dim=16, num_heads=1, num_layers=1, device="meta",
                     operations=comfy.ops.disable_weight_init)
    return {k: v.shape for k, v in model.state_dict().items()}


def _wan_vae_keys():
    import torch
    from comfy.ldm.wan.vae import WanVAE

    with torch.device("meta"):
        vae = WanVAE(dim=_WAN_VAE_DIM, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                     temperal_downsample=[False, True, True], dropout=0.0)
    return {k: v.shape for k, v in vae.state_dict().items()}


def _init(key, shape, gen):
    import torch

    name = key.rsplit(".", 1)[-1]
    if key.endswith("vae_scale"):
        return torch.ones(shape)
    if key.endswith("vae_shift"):
        return torch.zeros(shape)
    if key.endswith("taesd_decoder.19.bias"):  # final conv(64, 3): centre images on grey
        return torch.full(shape, 0.5)
    if name == "gamma":  # Wan VAE RMS norms ([dim, 1, 1(, 1)])
        return torch.ones(shape)
    if name == "bias":
        return torch.zeros(shape)
    if len(shape) == 1:  # GroupNorm / LayerNorm weights
        return torch.ones(shape)
    if key.endswith("_embedding.weight") or name == "pos_embed":
        return torch.randn(shape, generator=gen) * 0.02  # CLIP token / position, MMDiT position
    fan_in = math.prod(shape[1:])
    return torch.randn(shape, generator=gen) / math.sqrt(fan_in)


def _parts(kind, te_dtype):
    """(keys -> shape, storage dtype) for each part of the checkpoint of `kind`."""
    import torch

    if kind == "sd3":
        return ((_mmdit_keys(), torch.float16), (_sd3_clip_keys(), te_dtype),
                (_vae_keys(16), torch.float16))
    in_channels = 9 if kind == "sd15_inpaint" else 4
    return ((_unet_keys(in_channels), torch.float16), (_clip_keys(), te_dtype),
            (_vae_keys(4), torch.float16))


def build_tiny_checkpoint(path, kind="sd15", seed=0, text_encoder_dtype=None):
    """Write a tiny random SD1.5 (`kind="sd15"`), SD1.5-inpainting (`kind="sd15_inpaint"`) or SD3
    flow-matching (`kind="sd3"`) checkpoint to `path` (a `.safetensors` file) and return `path`.
    Deterministic for a given seed. `text_encoder_dtype` defaults to torch.float8_e4m3fn (smallest
    file); torch.float16 also works."""
    import torch

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
    te_dtype = torch.float8_e4m3fn if text_encoder_dtype is None else text_encoder_dtype
    return _save(path, _parts(kind, te_dtype), seed)


def _save(path, parts, seed):
    """Write the tensors of `parts` ((keys -> shape, storage dtype), ...) to `path`, every value drawn from
    one generator seeded by `seed`, part by part and key by key in sorted order."""
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for keys, dtype in parts:
        for key in sorted(keys):
            tensors[key] = _init(key, tuple(keys[key]), gen).to(dtype).contiguous()
    save_file(tensors, str(path), metadata={"format": "pt"})
    return path


def build_tiny_wan_model(path, seed=0):
    """Write a tiny random Wan 2.1 T2V diffusion model (UNETLoader's file, float16) to `path`."""
    import torch

    return _save(path, ((_wan_model_keys(), torch.float16),), seed)


def build_tiny_wan_vae(path, seed=0):
    """Write a tiny random Wan 2.1 VAE (VAELoader's file, float32) to `path`."""
    import torch

    return _save(path, ((_wan_vae_keys(), torch.float32),), seed)
