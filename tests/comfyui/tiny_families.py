"""Tiny random diffusion models of every model family the pack is tested with, as ComfyUI loads them.

`FAMILIES` is the table: for each family, ComfyUI's own diffusion-model class and the smallest constructor
arguments that ComfyUI's detection (comfy/model_detection.py) still reads back as that family, the
supported-model class ComfyUI 0.33 picks for it, the latent of one sample, the VAE that can be built small
for it, and the widths of the text conditioning its model takes. `build_family_model(path, name)` writes the
diffusion model alone (UNETLoader's file, float16, no key prefix); `build_family_vae(path, name)` its VAE
when the family has one that can be built small.

The model's keys and shapes are those of ComfyUI's class built on the meta device, so the file loads without
missing or unexpected keys; every value is drawn from one generator seeded by `seed` (tiny_checkpoint's
initialisation). What makes each small, and what detection reads from the weights:
- UNets (SD1.5, SDXL): model_channels 320 and the context width are the family's; SD1.5 gets one level with
  one res block, SDXL the three levels with its input transformer depths [0, 0, 2, 2, 10, 10] (the only part
  of its layout its config fixes), every channel multiplier 1, no output transformers and no middle block:
  still 130M parameters, the slowest family here. The 9-channel inpainting variants differ only in their first
  convolution.
- MMDiT (SD3): tiny_checkpoint's one 64-wide joint block.
- Flux.1 / Flux.1 Fill / Flux.2: hidden size 128 (one head: the rotary axes add up to 128), one double and
  one single block; Fill's image input takes 96 channels (latent, mask packed 8x8 and the masked picture);
  Flux.2's 128-channel latent and its global modulation. ComfyUI 0.8's detection fixes the head count (24,
  48 for Flux.2) instead of reading it, and needs a double block: the smallest Flux it detects has some 0.4
  billion parameters, so for it there is none (NoTinyModel).
- Qwen-Image: its width is not read from the weights (24 heads of 128), so it keeps no transformer block:
  the input, time, text and output layers alone (40M parameters; detection counts the blocks, 0 included).
- Wan 2.1 (T2V, Fun inpaint, VACE) and Wan 2.2 TI2V 5B: tiny_checkpoint's one 128-wide block; Fun inpaint
  takes 36 input channels (latent, 4 mask channels, the masked video) and has the image-embedding MLP (I2V
  layout); VACE adds one VACE block; Wan 2.2 TI2V's 48-channel latent in and out.
- LTX-Video: 32 heads (detection divides by 32) of width 4, one block.
- HunyuanVideo: hidden size 128 (one head), one double and one single block (its token refiner keeps its fixed
  two blocks).

VAEs: TAESD's layout with 4 or 16 latent channels (8x; ComfyUI takes the channel count from
`taesd_decoder.1.weight`) for the picture families, tiny_checkpoint's Wan 2.1 VAE for Wan 2.1 and Qwen-Image.
Flux.2, Wan 2.2, LTX-Video and HunyuanVideo have none here: their VAEs' sizes are fixed in ComfyUI (not
read from the weights) and far from tiny, so their latents are made directly.

comfy is imported inside the functions only (see tiny_checkpoint).
"""

from dataclasses import dataclass

from tiny_checkpoint import _save, build_tiny_wan_vae

_UNET = "comfy.ldm.modules.diffusionmodules.openaimodel:UNetModel"
_MMDIT = "comfy.ldm.modules.diffusionmodules.mmdit:MMDiT"
_FLUX = "comfy.ldm.flux.model:Flux"
_QWEN = "comfy.ldm.qwen_image.model:QwenImageTransformer2DModel"
_WAN = "comfy.ldm.wan.model:WanModel"
_VACE = "comfy.ldm.wan.model:VaceWanModel"
_LTXV = "comfy.ldm.lightricks.model:LTXVModel"
_HUNYUAN = "comfy.ldm.hunyuan_video.model:HunyuanVideo"

_SD_UNET = dict(image_size=32, out_channels=4, model_channels=320, use_spatial_transformer=True, legacy=False)
_SD15_UNET = dict(_SD_UNET, num_res_blocks=[1], channel_mult=[1], transformer_depth=[1],
                  transformer_depth_output=[1, 1], transformer_depth_middle=1, num_heads=8, num_head_channels=-1,
                  context_dim=768, use_linear_in_transformer=False)
_SDXL_UNET = dict(_SD_UNET, num_res_blocks=[2, 2, 2], channel_mult=[1, 1, 1], transformer_depth=[0, 0, 2, 2, 10, 10],
                  transformer_depth_output=[0] * 9, transformer_depth_middle=-2, num_head_channels=64,
                  context_dim=2048, use_linear_in_transformer=True, num_classes="sequential", adm_in_channels=2816)
_FLUX1 = dict(image_model="flux", in_channels=16, out_channels=16, vec_in_dim=768, context_in_dim=4096,
              hidden_size=128, mlp_ratio=4.0, num_heads=1, depth=1, depth_single_blocks=1, axes_dim=[16, 56, 56],
              theta=10000, patch_size=2, qkv_bias=True, guidance_embed=True, txt_ids_dims=[])
_FLUX2 = dict(image_model="flux2", in_channels=128, out_channels=128, vec_in_dim=None, context_in_dim=7680,
              hidden_size=128, mlp_ratio=3.0, num_heads=1, depth=1, depth_single_blocks=1,
              axes_dim=[32, 32, 32, 32], theta=2000, patch_size=1, qkv_bias=False, guidance_embed=True,
              txt_ids_dims=[3], global_modulation=True, mlp_silu_act=True, ops_bias=False)
_WAN_COMMON = dict(patch_size=(1, 2, 2), dim=128, ffn_dim=256, freq_dim=256, text_dim=4096, num_heads=1,
                   num_layers=1)
_HUNYUAN_VIDEO = dict(image_model="hunyuan_video", in_channels=16, out_channels=16, vec_in_dim=768,
                      context_in_dim=4096, hidden_size=128, mlp_ratio=4.0, num_heads=1, depth=1,
                      depth_single_blocks=1, axes_dim=[16, 56, 56], theta=256, patch_size=[1, 2, 2], qkv_bias=True,
                      guidance_embed=True, byt5=False, meanflow=False, use_cond_type_embedding=False,
                      vision_in_dim=None, meanflow_sum=False)


@dataclass(frozen=True)
class Family:
    """One model family: how to build its tiny model and what ComfyUI makes of it."""

    model: str  # "module:Class" of ComfyUI's diffusion model
    config: dict  # that class's constructor arguments
    detected_as: str  # the class in comfy.supported_models that ComfyUI 0.33 detects the file as
    latent: tuple  # one sample's latent: (C, h, w) or (C, T, h, w)
    text_width: int  # the cross-attention input's width
    pooled_width: int | None = None  # the pooled text vector's width, for models that take one
    vae: str | None = None  # "taesd" (channels from the latent) or "wan21"; None: none can be built small
    spatial: int = 8  # pixels per latent pixel
    temporal: int = 1  # pixel frames per latent frame after the first (causal video VAEs)
    text_mask: bool = False  # whether the model needs the text's attention mask (as its text encoder gives it)


FAMILIES = {
    "sd15": Family(_UNET, dict(_SD15_UNET, in_channels=4), "SD15", (4, 8, 8), 768, vae="taesd"),
    "sd15_inpaint": Family(_UNET, dict(_SD15_UNET, in_channels=9), "SD15", (4, 8, 8), 768, vae="taesd"),
    "sdxl": Family(_UNET, dict(_SDXL_UNET, in_channels=4), "SDXL", (4, 8, 8), 2048, 1280, vae="taesd"),
    "sdxl_inpaint": Family(_UNET, dict(_SDXL_UNET, in_channels=9), "SDXL", (4, 8, 8), 2048, 1280, vae="taesd"),
    "sd3": Family(_MMDIT, dict(input_size=None, patch_size=2, in_channels=16, out_channels=16, depth=1,
                               adm_in_channels=2048, num_patches=64 ** 2, pos_embed_max_size=64,
                               context_embedder_config={"target": "torch.nn.Linear",
                                                        "params": {"in_features": 4096, "out_features": 64}}),
                  "SD3", (16, 8, 8), 4096, 2048, vae="taesd"),
    "flux1": Family(_FLUX, _FLUX1, "Flux", (16, 8, 8), 4096, 768, vae="taesd"),
    "flux1_fill": Family(_FLUX, dict(_FLUX1, in_channels=96), "FluxInpaint", (16, 8, 8), 4096, 768, vae="taesd"),
    "flux2": Family(_FLUX, _FLUX2, "Flux2", (128, 4, 4), 7680, spatial=16),
    "qwen_image": Family(_QWEN, dict(image_model="qwen_image", in_channels=64, num_layers=0), "QwenImage",
                         (16, 1, 8, 8), 3584, vae="wan21", temporal=4),
    "wan21_t2v": Family(_WAN, dict(_WAN_COMMON, model_type="t2v", in_dim=16, out_dim=16), "WAN21_T2V",
                        (16, 3, 8, 8), 4096, vae="wan21", temporal=4),
    "wan21_fun_inpaint": Family(_WAN, dict(_WAN_COMMON, model_type="i2v", in_dim=36, out_dim=16), "WAN21_I2V",
                                (16, 3, 8, 8), 4096, vae="wan21", temporal=4),
    "wan21_vace": Family(_VACE, dict(_WAN_COMMON, in_dim=16, out_dim=16, vace_layers=1, vace_in_dim=96),
                         "WAN21_Vace", (16, 3, 8, 8), 4096, vae="wan21", temporal=4),
    "wan22_ti2v": Family(_WAN, dict(_WAN_COMMON, model_type="t2v", in_dim=48, out_dim=48), "WAN22_T2V",
                         (48, 3, 4, 4), 4096, spatial=16, temporal=4),
    "ltxv": Family(_LTXV, dict(in_channels=128, cross_attention_dim=128, attention_head_dim=4,
                               num_attention_heads=32, caption_channels=4096, num_layers=1),
                   "LTXV", (128, 2, 4, 4), 4096, spatial=32, temporal=8, text_mask=True),
    "hunyuan_video": Family(_HUNYUAN, _HUNYUAN_VIDEO, "HunyuanVideo", (16, 3, 8, 8), 4096, 768, temporal=4),
}


class NoTinyModel(Exception):
    """This ComfyUI reads no small model of the family back as it was built (its detection fixes the width)."""


def _meta_state_dict(family: Family, config: dict) -> dict:
    import importlib

    import comfy.ops

    module, name = family.model.split(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(**config, device="meta", operations=comfy.ops.disable_weight_init).state_dict()


def _as_list(value):
    return list(value) if isinstance(value, tuple) else value


def _reads_back(state_dict: dict, config: dict) -> bool:
    """Whether ComfyUI's detection gives back the constructor arguments the weights were made with."""
    import comfy.model_detection

    detected = comfy.model_detection.detect_unet_config(state_dict, "")
    return detected is not None and all(_as_list(detected[k]) == _as_list(v) for k, v in config.items()
                                        if k in detected)


def _model_keys(name: str, changes: dict) -> dict:
    family = FAMILIES[name]
    config = {**family.config, **changes}
    state_dict = _meta_state_dict(family, config)
    if not _reads_back(state_dict, config):
        raise NoTinyModel(f"this ComfyUI's detection does not read the tiny {name} back as built (it fixes the "
                          "model's width rather than reading it from the weights)")
    return {k: v.shape for k, v in state_dict.items()}


def build_family_model(path, name: str, seed: int = 0, **changes):
    """Write the tiny random diffusion model of family `name` (a key of FAMILIES) to `path`, float16, its
    constructor arguments changed by `changes` (e.g. the text widths a stand-in text encoder gives). Raises
    NoTinyModel when this ComfyUI would not read it back as built."""
    import torch

    if name not in FAMILIES:
        raise ValueError(f"name must be one of {sorted(FAMILIES)}, not {name!r}")
    return _save(path, ((_model_keys(name, changes), torch.float16),), seed)


def _taesd_keys(latent_channels: int) -> dict:
    import comfy.taesd.taesd

    return {k: v.shape for k, v in comfy.taesd.taesd.TAESD(latent_channels=latent_channels).state_dict().items()}


def build_family_vae(path, name: str, seed: int = 0):
    """Write the tiny random VAE of family `name` to `path` (float32); None when the family has none here."""
    import torch

    family = FAMILIES[name]
    if family.vae == "wan21":
        return build_tiny_wan_vae(path, seed)
    if family.vae == "taesd":
        return _save(path, ((_taesd_keys(family.latent[0]), torch.float32),), seed)
    return None
