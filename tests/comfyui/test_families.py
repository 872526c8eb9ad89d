"""The family matrix: soft inpainting checked on a tiny random model of every model family (tiny_families),
with the soft sampler and with the model patch under SamplerCustomAdvanced.

For each family and each way of running it:
- an all-zero mask gives back the original latent;
- an all-one mask gives what stock sampling without a mask gives (within 1e-4, relative);
- where A1111's latent mask is 0 the result is the original latent, and elsewhere it changed;
- the composite (families with a VAE built here) returns the original's size and frame count, with the
  original's pixels wherever its compositing mask is 0;
- a batch of 2 with different masks keeps each sample's own mask (for video families, a batch of 2
  one-frame latents: pictures).
The text conditioning is made directly in the widths the model takes (the text encoders are not tested);
families without a VAE here get a random latent of their shape.
"""

import contextlib
import logging

import pytest
import torch
from helpers import node, soft_sample
from tiny_families import FAMILIES, NoTinyModel, build_family_model, build_family_vae

import core

STEPS = 3
CFG = 5.0
SEED = 1
MODES = ("sampler", "patch")


def _random(shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _conditioning(family, seed, tokens=8):
    extras = {} if family.pooled_width is None else {"pooled_output": _random((1, family.pooled_width), seed + 1)}
    if family.text_mask:
        extras["attention_mask"] = torch.ones(1, tokens, dtype=torch.long)
    return [[_random((1, tokens, family.text_width), seed), extras]]


def _pixels(family, frames=None):
    """Pixel size (height, width) and frame count of the family's latent."""
    channels, *rest = family.latent
    height, width = rest[-2] * family.spatial, rest[-1] * family.spatial
    latent_frames = rest[0] if len(rest) == 3 else 1
    return (height, width), 1 + family.temporal * (latent_frames - 1) if frames is None else frames


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request, comfy_nodes, tmp_path_factory):
    """A dict: the family's table entry, its model and VAE as ComfyUI loads them, conditioning, the original
    picture or video (when there is a VAE) and its latent."""
    import comfy.sd
    import comfy.utils

    name = request.param
    spec = FAMILIES[name]
    directory = tmp_path_factory.mktemp(name)
    try:
        model_path = build_family_model(directory / f"{name}.safetensors", name)
    except NoTinyModel as error:
        pytest.skip(str(error))
    with _logged() as log:
        model = comfy.sd.load_diffusion_model(str(model_path))
    vae_path = build_family_vae(directory / f"{name}_vae.safetensors", name)
    vae = None if vae_path is None else comfy.sd.VAE(sd=comfy.utils.load_torch_file(str(vae_path)))
    (height, width), frames = _pixels(spec)
    image = torch.rand(frames, height, width, 3, generator=torch.Generator().manual_seed(0))
    if vae is not None:
        samples = vae.encode(image)
    else:
        samples = _random((1, *spec.latent), 0)
    assert samples.shape == (1, *spec.latent), f"{name}: the VAE gave {tuple(samples.shape)}"
    return {"name": name, "spec": spec, "nodes": comfy_nodes, "model": model, "vae": vae, "image": image,
            "latent": {"samples": samples}, "positive": _conditioning(spec, 10), "negative": _conditioning(spec, 20),
            "load_log": log, "runs": {}}


@contextlib.contextmanager
def _logged():
    """Yields the list of the messages logged meanwhile (ComfyUI warns of missing and unexpected weights)."""
    messages = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(record.getMessage())
    logging.getLogger().addHandler(handler)
    try:
        yield messages
    finally:
        logging.getLogger().removeHandler(handler)


def test_comfyui_detects_the_family_and_loads_every_weight(family):
    spec = family["spec"]
    assert type(family["model"].model.model_config).__name__ == spec.detected_as
    assert family["model"].get_model_object("latent_format").latent_channels == spec.latent[0]
    leftovers = [m for m in family["load_log"] if m.startswith(("unet missing", "unet unexpected", "left over"))]
    assert not leftovers


def soft_sampler(setup, latent, mask, model=None):
    return soft_sample(setup, mask, latent, model=model, seed=SEED, steps=STEPS, cfg=CFG)


def _custom_advanced(setup, model, latent):
    import comfy.samplers
    from comfy_extras import nodes_custom_sampler as custom

    guider = custom.CFGGuider.execute(model, setup["positive"], setup["negative"], CFG).args[0]
    sigmas = comfy.samplers.calculate_sigmas(setup["model"].get_model_object("model_sampling"), "normal", STEPS)
    return custom.SamplerCustomAdvanced.execute(custom.Noise_RandomNoise(SEED), guider,
                                                comfy.samplers.sampler_object("euler"), sigmas, latent).args[0]


def noise_masked(setup, latent, mask):
    return setup["nodes"].NODE_CLASS_MAPPINGS["SetLatentNoiseMask"]().set_mask(latent, mask)[0]


def patch_sampler(setup, latent, mask, model=None):
    """The patch with its mask connected, under SamplerCustomAdvanced, the latent noise-masked by the same mask."""
    patched = node(setup["nodes"], "SoftInpaintModelPatch").execute(model=model or setup["model"], mask=mask).args[0]
    return _custom_advanced(setup, patched, noise_masked(setup, latent, mask))


def stock(setup, mode, latent, model=None):
    """Stock sampling, by the stock sampler or SamplerCustomAdvanced."""
    model = model or setup["model"]
    if mode == "sampler":
        return setup["nodes"].common_ksampler(model, SEED, STEPS, CFG, "euler", "normal", setup["positive"],
                                              setup["negative"], latent, denoise=1.0)[0]
    return _custom_advanced(setup, model, latent)


def soft(setup, mode, mask, latent=None, model=None):
    run = soft_sampler if mode == "sampler" else patch_sampler
    return run(setup, latent or setup["latent"], mask, model)


def _mask_size(setup):
    return _pixels(setup["spec"])[0]


def ramp_mask(setup):
    """1 on the left fifth, falling linearly to 0 over the next sixth, 0 on the rest (one frame, for all): room
    for unchanged areas beyond the composite's filter and blur radius."""
    height, width = _mask_size(setup)
    columns = torch.linspace(0, 1, width)
    return ((0.37 - columns) / 0.17).clamp(0, 1).expand(1, height, width).contiguous()


def latent_zero(mask, latent):
    """Where A1111's latent mask of each of these (one-frame) masks is 0: [N,h,w] bool."""
    return core.latent_mask(mask, *latent.shape[-2:]) == 0


def _relative(a, b):
    return ((a - b).norm() / b.norm()).item()


def assert_kept(out, original, where=None):
    """The original latent, up to float32 rounding of the latent scaling in and out of the model."""
    if where is not None:
        out, original = out[..., where], original[..., where]
    torch.testing.assert_close(out, original, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_zero_mask_gives_back_the_original(family, mode):
    height, width = _mask_size(family)
    out = soft(family, mode, torch.zeros(1, height, width))["samples"]
    assert_kept(out, family["latent"]["samples"])


@pytest.mark.parametrize("mode", MODES)
def test_one_mask_equals_stock_sampling(family, mode):
    out = soft(family, mode, torch.ones(1, *_mask_size(family)))["samples"]
    reference = stock_all_masked(family, mode)[0]["samples"]
    assert _relative(reference, family["latent"]["samples"]) > 1e-2  # the model did change the latent
    assert _relative(out, reference) <= 1e-4


def stock_all_masked(setup, mode):
    """(output latent, model calls) of stock sampling with an all-one noise mask, run once per family and mode.
    With the mask: an inpainting model is shown the mask and the original as its masked picture."""
    key = ("stock, all masked", mode)
    if key not in setup["runs"]:
        with capturing(setup["model"]) as calls:
            out = stock(setup, mode, noise_masked(setup, setup["latent"], torch.ones(1, *_mask_size(setup))))
        setup["runs"][key] = out, calls
    return setup["runs"][key]


def ramp_run(setup, mode):
    """(mask, output latent) of the soft run with ramp_mask, run once per family and mode."""
    key = ("ramp", mode)
    if key not in setup["runs"]:
        mask = ramp_mask(setup)
        setup["runs"][key] = mask, soft(setup, mode, mask)
    return setup["runs"][key]


@pytest.mark.parametrize("mode", MODES)
def test_the_latent_stays_the_original_where_the_latent_mask_is_0(family, mode):
    mask, out = ramp_run(family, mode)
    out = out["samples"]
    original = family["latent"]["samples"]
    outside = latent_zero(mask, original)[0]
    assert outside.any() and not outside.all()
    assert_kept(out, original, outside)
    assert _relative(out[..., ~outside], original[..., ~outside]) > 1e-2


def _decoded(setup, latent):
    return setup["nodes"].NODE_CLASS_MAPPINGS["VAEDecode"]().decode(setup["vae"], latent)[0]


def _composite(setup, original_image, out, latent, mask, mode, decoded=None):
    """The composite of the sampler's output latent `out` (decoded unless given) over the original; for the
    patch (whose latent carries nothing) with the original latent, mask and model connected."""
    explicit = {} if mode == "sampler" else {"original_latent": latent, "mask": mask, "model": setup["model"]}
    return node(setup["nodes"], "AdaptiveDifferenceComposite").execute(
        original_image=original_image, inpainted_image=_decoded(setup, out) if decoded is None else decoded,
        inpainted_latent=out, mask_influence=0.0, difference_threshold=0.5, difference_contrast=2.0,
        **explicit).args


def _needs_vae(setup):
    if setup["vae"] is None:
        pytest.skip(f"{setup['name']}: no VAE of this family can be built small (its latent is made directly)")


def assert_composite_keeps_the_original(image, composite_mask, original):
    assert image.shape == original.shape and composite_mask.shape == original.shape[:3]
    keep = composite_mask == 0
    assert keep.flatten(1).any(dim=1).all(), "the composite took the new pixels everywhere in a picture or frame"
    assert torch.equal(image[keep], original[keep])


@pytest.mark.parametrize("mode", MODES)
def test_composite_keeps_the_originals_size_frames_and_pixels(family, mode):
    _needs_vae(family)
    mask, out = ramp_run(family, mode)
    image, composite_mask = _composite(family, family["image"], out, family["latent"], mask, mode)
    assert_composite_keeps_the_original(image, composite_mask, family["image"])
    assert composite_mask.max() > 0.5  # the masked side was inpainted


def _two_pictures(setup):
    """(pictures [2,H,W,3] or None, latent of a batch of 2): a video family's one-frame latents are pictures."""
    spec = setup["spec"]
    height, width = _mask_size(setup)
    if setup["vae"] is None:
        shape = (spec.latent[0], *((1,) if len(spec.latent) == 4 else ()), *spec.latent[-2:])
        return None, {"samples": _random((2, *shape), 5)}
    pictures = torch.rand(2, height, width, 3, generator=torch.Generator().manual_seed(5))
    samples = torch.cat([setup["vae"].encode(picture[None]) for picture in pictures])
    return pictures, {"samples": samples}


def _sides(setup):
    """Two masks: picture 0 inpainted on its left quarter, picture 1 on its right quarter."""
    height, width = _mask_size(setup)
    masks = torch.zeros(2, height, width)
    masks[0, :, :width // 4] = 1
    masks[1, :, -(width // 4):] = 1
    return masks


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_of_two_keeps_each_samples_own_mask(family, mode):
    pictures, latent = _two_pictures(family)
    masks = _sides(family)
    out = soft(family, mode, masks, latent)
    original = latent["samples"]
    outside = latent_zero(masks, original)
    for sample in range(2):
        kept_change = _relative(out["samples"][sample][..., outside[sample]], original[sample][..., outside[sample]])
        masked_change = _relative(out["samples"][sample][..., ~outside[sample]],
                                  original[sample][..., ~outside[sample]])
        print(f"{family['name']} {mode} sample {sample}: changed {kept_change:.3g} (relative) where its mask keeps "
              f"it, {masked_change:.3g} where it is inpainted")
        assert_kept(out["samples"][sample], original[sample], outside[sample])
        assert masked_change > 1e-2
    if pictures is not None:
        image, composite_mask = _composite(family, pictures, out, latent, masks, mode)
        assert_composite_keeps_the_original(image, composite_mask, pictures)


@contextlib.contextmanager
def capturing(model):
    """Yields the list that every call of the model's diffusion model appends (latent part of its input,
    timestep) to, as it gets them from ComfyUI (after its per-token timesteps, before any patchifying)."""
    calls = []
    channels = model.get_model_object("latent_format").latent_channels

    def capture(module, args):
        calls.append((args[0][:, :channels].detach().clone(), args[1].detach().clone()))

    handle = model.get_model_object("diffusion_model").register_forward_pre_hook(capture)
    try:
        yield calls
    finally:
        handle.remove()


def _calls(model, run):
    with capturing(model) as calls:
        run()
    return calls


def _half_and_ramp_mask(setup):
    """1 on the left half (latent pixels wholly 1, which even the first, noisiest step does not keep), falling
    linearly to 0 over the next fifth, 0 on the rest."""
    height, width = _mask_size(setup)
    columns = torch.linspace(0, 1, width)
    return ((0.7 - columns) / 0.2).clamp(0, 1).expand(1, height, width).contiguous()


def _step_sigmas(model):
    """The run's sigmas, as the blend reads them (a flow model's in SD's noise levels, the schedule's default)."""
    import comfy.model_sampling
    import comfy.samplers

    model_sampling = model.get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(model_sampling, "normal", STEPS)[:-1]
    return core.flow_to_sd_sigma(sigmas) if isinstance(model_sampling, comfy.model_sampling.CONST) else sigmas


def _stock_call(setup, mode, kept, step):
    """Stock sampling's model input and timestep at `step` with the hard mask 0 where `kept` [h,w] is."""
    original = setup["latent"]["samples"]
    hard = (~kept).float().expand(original.shape[:1] + (1,) + original.shape[2:])  # at the latent's size
    return _calls(setup["model"], lambda: stock(setup, mode, noise_masked(setup, setup["latent"], hard)))[step]


@pytest.mark.parametrize("mode", MODES)
def test_the_model_is_shown_the_original_where_the_step_keeps_it_as_stock_shows_it(family, mode):
    """At every step, where the blend keeps the original wholly, a model that reads the noise mask as timesteps
    (per frame, per token) gets what stock sampling with that hard mask gives it: the original, with timestep
    0; elsewhere the full timestep, as every other model gets everywhere under soft inpainting."""
    mask = _half_and_ramp_mask(family)
    original = family["latent"]["samples"]
    nmask = core.latent_mask(mask, *original.shape[-2:])[0]
    model = family["model"]
    soft_calls = _calls(model, lambda: soft(family, mode, mask))
    assert len(soft_calls) == STEPS  # one model call a step (cond and uncond batched)
    kept = [core.original_kept(nmask, sigma, core.SoftInpaintSettings()) for sigma in _step_sigmas(model)]
    unmasked_calls = stock_all_masked(family, mode)[1]  # the full timesteps: a mask of ones is no mask
    stock_calls = [_stock_call(family, mode, kept[0], 0)]
    if torch.equal(stock_calls[0][1], unmasked_calls[0][1]):  # the model does not read the mask
        for (_, soft_t), (_, unmasked_t) in zip(soft_calls, unmasked_calls, strict=True):
            torch.testing.assert_close(soft_t, unmasked_t, rtol=0, atol=1e-6)
        return
    stock_calls += [_stock_call(family, mode, kept[step], step) for step in range(1, STEPS)]
    shown = model.get_model_object("latent_format").process_in(original).expand_as(soft_calls[0][0])
    for step, ((soft_x, soft_t), (stock_x, stock_t), where) in enumerate(zip(soft_calls, stock_calls, kept,
                                                                            strict=True)):
        deviation = (soft_x[..., where] - shown[..., where]).abs().max().item() if where.any() else 0.0
        print(f"{family['name']} {mode} step {step}: kept {where.float().mean().item():.2f} of the latent; the "
              f"model's input there is {deviation:.3g} from the original; timesteps "
              f"{stock_t.flatten().unique().tolist()} (stock), {soft_t.flatten().unique().tolist()} (soft)")
        torch.testing.assert_close(soft_t, stock_t, rtol=0, atol=1e-6)
        assert torch.allclose(stock_x[..., where], shown[..., where], atol=1e-5)
        assert deviation <= 1e-5


@pytest.mark.parametrize("family", [name for name, spec in FAMILIES.items() if len(spec.latent) == 4],
                         indirect=True)
def test_a_picture_latent_samples_and_composites_alike_with_or_without_its_frame_axis(family):
    """A batch of pictures of a model on a video latent format, [B,C,h,w] as EmptySD3LatentImage makes it or
    [B,C,1,h,w] as it is sampled (ComfyUI adds the axis), gives the same result, composited alike."""
    pictures, latent = _two_pictures(family)
    masks = _sides(family)
    flat = {"samples": latent["samples"][:, :, 0]}
    out = soft(family, "sampler", masks, latent)
    out_flat = soft(family, "sampler", masks, flat)
    torch.testing.assert_close(out_flat["samples"], out["samples"], rtol=0, atol=0)
    if pictures is not None:
        decoded = _decoded(family, out)
        composites = [_composite(family, pictures, {"samples": samples}, {"samples": original}, masks, "patch",
                                 decoded)
                      for samples, original in ((out["samples"], latent["samples"]),
                                                (out["samples"][:, :, 0], flat["samples"]))]
        for a, b in zip(*composites, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def _model_calls(model, run):
    """Every call of the diffusion model: its whole input (latent and concatenated channels), its timestep (per
    token for models that read the mask as timesteps) and its keyword arguments (conditionings such as VACE's,
    the context window among the transformer options)."""
    calls = []

    def capture(module, args, kwargs):
        calls.append((args[0].detach().clone(), args[1].detach().clone(), kwargs))

    handle = model.get_model_object("diffusion_model").register_forward_pre_hook(capture, with_kwargs=True)
    try:
        run()
    finally:
        handle.remove()
    return calls


def _first_model_input(model, run):
    """The first call of the diffusion model: its whole input and its keyword arguments."""
    x, _, kwargs = _model_calls(model, run)[0]
    return x, kwargs


def _packed_8x8(mask):
    """Pixel masks [N,H,W] packed 8x8 into 64 channels [N,64,H/8,W/8], as Flux Fill and VACE take them."""
    count, height, width = mask.shape
    return mask.view(count, height // 8, 8, width // 8, 8).permute(0, 2, 4, 1, 3).reshape(count, 64, height // 8,
                                                                                         width // 8)


def _soft_model_conditioning(setup, mask):
    return node(setup["nodes"], "SoftInpaintModelConditioning").execute(
        positive=setup["positive"], negative=setup["negative"], vae=setup["vae"], pixels=setup["image"], mask=mask,
        mask_strength=1.0).args


def _expected_concat_mask(setup, mask, height, width):
    """The mask channels each family's model takes, laid out as it takes them (tests know the families)."""
    from core.frames import frames_as_channels

    name = setup["name"]
    if name in ("sd15_inpaint", "sdxl_inpaint"):
        return core.conditioning_mask(mask, height, width)  # A1111's: 8-bit, nearest
    if name == "flux1_fill":
        return _packed_8x8(mask)
    frames = mask.expand(setup["image"].shape[0], -1, -1)  # Wan Fun: 1 - mask, 4 pixel frames a latent frame
    return 1 - frames_as_channels(core.conditioning_mask(frames, height, width)[:, 0], 4)[None]


CONCAT_MASK_FIRST = {"sd15_inpaint": True, "sdxl_inpaint": True, "flux1_fill": False, "wan21_fun_inpaint": True}


@pytest.mark.parametrize("family", list(CONCAT_MASK_FIRST), indirect=True)
def test_mask_channel_models_receive_the_soft_mask_and_the_soft_masked_picture(family):
    """Inpainting models (SD 9-channel, Flux Fill, Wan Fun inpaint) conditioned by Soft Inpaint Model
    Conditioning and sampled softly get the unrounded mask and the softly masked picture (or video)."""
    mask = ramp_mask(family)
    positive, negative, latent = _soft_model_conditioning(family, mask)
    model = family["model"]
    x, _ = _first_model_input(model, lambda: node(family["nodes"], "SoftLatentBlendKSampler").execute(
        model=model, seed=SEED, steps=STEPS, cfg=CFG, sampler_name="euler", scheduler="normal", positive=positive,
        negative=negative, latent_image=latent, denoise=1.0))
    channels = family["latent"]["samples"].shape[1]
    concat = x[:1, channels:]
    expected_mask = _expected_concat_mask(family, mask, *x.shape[-2:])
    mask_channels = expected_mask.shape[1]
    got_mask, got_picture = ((concat[:, :mask_channels], concat[:, mask_channels:]) if CONCAT_MASK_FIRST[family["name"]]
                             else (concat[:, -mask_channels:], concat[:, :-mask_channels]))
    soft_values = ((got_mask > 0) & (got_mask < 1)).float().mean().item()
    print(f"{family['name']}: {mask_channels} mask channels, {soft_values:.2f} of them soft (strictly between 0 "
          f"and 1); largest difference from the soft mask {(got_mask - expected_mask).abs().max().item():.3g}")
    assert soft_values > 0
    torch.testing.assert_close(got_mask, expected_mask.to(got_mask), rtol=0, atol=1e-6)
    masked_picture = model.model.process_latent_in(positive[0][1]["concat_latent_image"])
    torch.testing.assert_close(got_picture, masked_picture.to(got_picture), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("family", ["wan21_vace"], indirect=True)
def test_vace_receives_the_soft_mask_packed_8x8(family):
    """WanVaceToVideo keeps a soft control mask soft (reactive and inactive video, the mask packed 8x8) and the
    soft sampler hands it on as it is."""
    from comfy_extras.nodes_wan import WanVaceToVideo

    mask = ramp_mask(family)
    frames, height, width = family["image"].shape[:3]
    positive, negative, _, _ = WanVaceToVideo.execute(
        family["positive"], family["negative"], family["vae"], width, height, frames, 1, 1.0,
        control_video=family["image"], control_masks=mask.expand(frames, -1, -1)).args
    model = family["model"]
    _, kwargs = _first_model_input(model, lambda: node(family["nodes"], "SoftLatentBlendKSampler").execute(
        model=model, seed=SEED, steps=STEPS, cfg=CFG, sampler_name="euler", scheduler="normal", positive=positive,
        negative=negative, latent_image=family["latent"], denoise=1.0, mask=mask))
    packed = kwargs["vace_context"][0, 0, -64:]  # [64, T, h, w]: after the inactive and reactive latents
    unpacked = packed.view(8, 8, *packed.shape[1:]).permute(2, 3, 0, 4, 1).reshape(packed.shape[1], height, width)
    soft_values = ((packed > 0) & (packed < 1)).float().mean().item()
    print(f"wan21_vace: {soft_values:.2f} of the packed mask soft; largest difference from the pixel mask "
          f"{(unpacked - mask).abs().max().item():.3g}")
    assert soft_values > 0
    torch.testing.assert_close(unpacked, mask.expand_as(unpacked).to(unpacked), rtol=0, atol=1e-6)


def _window(kwargs):
    """The context window a model call was made for (None: the whole latent)."""
    return kwargs["transformer_options"].get("context_window")


def _in_context_windows(model):
    """The model under Wan Context Windows of 2 latent frames (5 pixel frames), overlapping by one."""
    import comfy.context_windows as windows
    from comfy_extras.nodes_context_windows import WanContextWindowsManualNode

    return WanContextWindowsManualNode.execute(
        model, context_length=5, context_overlap=4, context_schedule=windows.ContextSchedules.UNIFORM_STANDARD,
        context_stride=1, closed_loop=False, fuse_method=windows.ContextFuseMethods.PYRAMID, freenoise=False).args[0]


def _mask_per_frame(setup, mask):
    """`mask` [1,H,W] made fainter frame by frame over the family's pixel frames: each latent frame its own."""
    frames = _pixels(setup["spec"])[1]
    return mask * torch.linspace(1, 0.4, frames)[:, None, None]


def _assert_ran_in_windows(calls, latent_frames):
    index_lists = {tuple(_window(kwargs).index_list) for *_, kwargs in calls}
    assert len(index_lists) > 1 and all(len(indices) < latent_frames for indices in index_lists)


@pytest.mark.parametrize("family", ["hunyuan_video"], indirect=True)
def test_under_context_windows_each_window_gets_its_frames_of_the_soft_mask(family, tmp_path):
    """With Wan Context Windows a video inpainting model whose concat channels hold the mask (HunyuanVideo I2V:
    the picture, then 1 - mask) sees a few latent frames a call; each call gets those frames of the soft mask."""
    import comfy.sd

    i2v = comfy.sd.load_diffusion_model(str(build_family_model(tmp_path / "i2v.safetensors", "hunyuan_video",
                                                               in_channels=33)))
    windowed = _in_context_windows(i2v)
    mask = _mask_per_frame(family, ramp_mask(family))
    latent = family["latent"]["samples"]
    inverted = 1 - core.masks_for_latent(mask, latent.shape, family["spec"].temporal).model
    calls = _model_calls(windowed, lambda: soft_sampler(family, family["latent"], mask, windowed))
    _assert_ran_in_windows(calls, latent.shape[2])
    for x, _, kwargs in calls:
        torch.testing.assert_close(x[:1, -1:], _window(kwargs).get_tensor(inverted).to(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("family", ["wan22_ti2v"], indirect=True)
def test_under_context_windows_a_model_reading_the_mask_gets_the_windows_timesteps(family):
    """With Wan Context Windows, Wan 2.2 (a timestep per frame, from the mask) gets at every step, in every window,
    the timesteps of that window's frames in the same run without windows."""
    mask = _mask_per_frame(family, _half_and_ramp_mask(family))
    windowed = _in_context_windows(family["model"])
    whole = _model_calls(family["model"], lambda: soft_sampler(family, family["latent"], mask))
    calls = _model_calls(windowed, lambda: soft_sampler(family, family["latent"], mask, windowed))
    _assert_ran_in_windows(calls, family["latent"]["samples"].shape[2])
    assert len(whole) == STEPS and len(calls) % STEPS == 0
    per_step = len(calls) // STEPS
    for index, (_, timesteps, kwargs) in enumerate(calls):
        expected = _window(kwargs).get_tensor(whole[index // per_step][1], dim=1)
        torch.testing.assert_close(timesteps, expected, rtol=0, atol=1e-3)
