"""The pack against A1111's soft inpainting written out in the tests, on the tiny random SD1.5 model:
its latent mask, its per-step blend inside a real Euler run, and what reaches an inpainting model."""

import numpy as np
import pytest
import torch
from helpers import node, text_conditioning
from PIL import Image

PIXELS = 64
LATENT = PIXELS // 8
STRENGTH, BIAS, BOOST = 0.5, 1.0, 4.0  # A1111's default schedule


def _blurred_square_mask(pixels=PIXELS):
    """A hard square blurred the way Soft Inpaint Mask Prep does, with a faint floor below half an 8-bit
    level (as resampled or feathered masks have): soft edges and faint tails."""
    import core

    mask = torch.zeros(1, pixels, pixels)
    mask[:, 20:44, 16:40] = 1.0
    return (core.blur_mask(mask, 4.0, 4.0) + 1.5e-3).clamp(0, 1)


def a1111_latent_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A1111's img2img latent mask: the 8-bit mask, convert("RGB").resize((w, h)), first channel / 255."""
    levels = (mask.clamp(0, 1) * 255).round().byte().numpy()
    out = [np.asarray(Image.fromarray(m).convert("RGB").resize((width, height)), dtype=np.float32)[..., 0] / 255
           for m in levels]
    return torch.from_numpy(np.stack(out))[:, None]


def a1111_blend(original, denoised, nmask, sigma):
    """A1111's soft-inpainting step: nmask ** (sigma ** bias * strength), then the magnitude-keeping blend."""
    t = nmask.double() ** (float(sigma) ** BIAS * STRENGTH)
    a, b = original.double(), denoised.double()
    linear = a * (1 - t) + b * t
    wanted = ((1 - t) * a.norm(dim=1, keepdim=True) ** BOOST + t * b.norm(dim=1, keepdim=True) ** BOOST) ** (1 / BOOST)
    return linear * wanted / (linear.norm(dim=1, keepdim=True) + 1e-5)


@pytest.fixture(scope="module")
def run(comfy_nodes, sd15):
    model, clip, vae = sd15
    image = torch.rand(1, PIXELS, PIXELS, 3, generator=torch.Generator().manual_seed(4))
    positive, negative = text_conditioning(comfy_nodes, clip)
    return {"model": model, "vae": vae, "image": image, "latent": vae.encode(image), "positive": positive,
            "negative": negative}


def _sample(run, model, sampler, sigmas, mask=None, seed=7):
    import comfy.sample

    noise = comfy.sample.prepare_noise(run["latent"], seed)
    return comfy.sample.sample_custom(model, noise, 5.0, sampler, sigmas, run["positive"], run["negative"],
                                      run["latent"], noise_mask=mask, seed=seed)


def _patched(comfy_nodes, run, mask):
    return node(comfy_nodes, "SoftInpaintModelPatch").execute(model=run["model"], mask=mask).args[0]


@pytest.mark.parametrize("sigma", [2.0, 0.05])
def test_one_step_equals_a1111s_blend_with_a1111s_latent_mask(comfy_nodes, run, sigma):
    import comfy.samplers

    mask = _blurred_square_mask()
    sigmas = torch.tensor([sigma, 0.0])
    euler = comfy.samplers.sampler_object("euler")
    # One Euler step to sigma 0 returns the step's (blended) denoised latent.
    denoised = _sample(run, run["model"], euler, sigmas)
    soft = _sample(run, _patched(comfy_nodes, run, mask), euler, sigmas, mask=mask)
    latent_format = run["model"].get_model_object("latent_format")
    original = latent_format.process_in(run["latent"])
    expected = latent_format.process_out(
        a1111_blend(original, latent_format.process_in(denoised), a1111_latent_mask(mask, LATENT, LATENT), sigma))
    change = (denoised - run["latent"]).norm()
    error = (soft - expected).norm() / change
    print(f"\none step at sigma {sigma}: {error:.2e} of the change from A1111's blend")
    assert error < 0.01, f"differs from A1111 by {error:.2%} of the change"
    # The test can tell: ComfyUI's bilinear latent mask, fed the same way, is off by far more.
    bilinear = torch.nn.functional.interpolate(mask[None], size=(LATENT, LATENT), mode="bilinear")
    other = latent_format.process_out(a1111_blend(original, latent_format.process_in(denoised), bilinear, sigma))
    print(f"with ComfyUI's bilinear latent mask: {((other - expected).norm() / change):.2%}")
    assert (other - expected).norm() / change > 5 * max(error, 1e-3)


@pytest.mark.parametrize("sigma, most", [(2.0, 0.05), (0.05, 0.10)])
def test_the_patch_alone_drops_the_faint_tails_a1111_drops(comfy_nodes, run, sigma, most):
    """Without its mask input the patch only has the noise mask ComfyUI resized (bilinear); rounded to 8-bit
    levels, its faint tails are 0 as in A1111, so the step stays near A1111's."""
    import comfy.samplers

    mask = _blurred_square_mask()
    sigmas = torch.tensor([sigma, 0.0])
    euler = comfy.samplers.sampler_object("euler")
    denoised = _sample(run, run["model"], euler, sigmas)
    alone = node(comfy_nodes, "SoftInpaintModelPatch").execute(model=run["model"]).args[0]
    soft = _sample(run, alone, euler, sigmas, mask=mask)
    latent_format = run["model"].get_model_object("latent_format")
    original, new = latent_format.process_in(run["latent"]), latent_format.process_in(denoised)
    expected = latent_format.process_out(a1111_blend(original, new, a1111_latent_mask(mask, LATENT, LATENT), sigma))
    change = (denoised - run["latent"]).norm()
    error = float((soft - expected).norm() / change)
    bilinear = torch.nn.functional.interpolate(mask[None], size=(LATENT, LATENT), mode="bilinear")
    unrounded = float((latent_format.process_out(a1111_blend(original, new, bilinear, sigma)) - expected).norm()
                      / change)
    print(f"\npatch alone, one step at sigma {sigma}: {error:.2%} of the change from A1111's blend "
          f"(unrounded bilinear mask: {unrounded:.2%})")
    assert error < most and error < unrounded / 2


def _a1111_euler(original, nmask):
    """A1111's k-diffusion Euler with soft inpainting: CFG denoise, blend with the clean original latent by
    the scheduled latent mask, Euler step. Run as a ComfyUI sampler over the stock (unpatched) guider."""

    @torch.no_grad()
    def sample(model, x, sigmas, extra_args=None, callback=None, disable=None):
        s_in = x.new_ones([x.shape[0]])
        for i in range(len(sigmas) - 1):
            denoised = model(x, sigmas[i] * s_in, **extra_args)
            blended = a1111_blend(original, denoised, nmask, sigmas[i]).to(x.dtype)
            x = x + (x - blended) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
        return x

    return sample


def test_euler_run_equals_a1111s_loop(comfy_nodes, run):
    import comfy.samplers

    mask = _blurred_square_mask()
    model_sampling = run["model"].get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(model_sampling, "karras", 6)
    latent_format = run["model"].get_model_object("latent_format")
    reference = comfy.samplers.KSAMPLER(_a1111_euler(latent_format.process_in(run["latent"]),
                                                     a1111_latent_mask(mask, LATENT, LATENT)))
    expected = _sample(run, run["model"], reference, sigmas)
    patched = _sample(run, _patched(comfy_nodes, run, mask), comfy.samplers.sampler_object("euler"), sigmas, mask)
    assert (expected - run["latent"]).norm() > 0.1 * run["latent"].norm()  # the run really changed the picture
    torch.testing.assert_close(patched, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())
    sampled = node(comfy_nodes, "SoftLatentBlendKSampler").execute(
        model=run["model"], seed=7, steps=6, cfg=5.0, sampler_name="euler", scheduler="karras",
        positive=run["positive"], negative=run["negative"], latent_image={"samples": run["latent"]}, denoise=1.0,
        mask=mask).args[0]["samples"]
    torch.testing.assert_close(sampled, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())


def _soft_conditioned(comfy_nodes, clip, vae, mask_strength):
    """(picture, mask, Soft Inpaint Model Conditioning's outputs) for a random picture and the blurred square."""
    encode = comfy_nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    image = torch.rand(1, PIXELS, PIXELS, 3, generator=torch.Generator().manual_seed(2))
    mask = _blurred_square_mask()
    conditioned = node(comfy_nodes, "SoftInpaintModelConditioning").execute(
        positive=encode.encode(clip, "a wall")[0], negative=encode.encode(clip, "blurry")[0], vae=vae, pixels=image,
        mask=mask, mask_strength=mask_strength).args
    return image, mask, conditioned


def test_inpainting_model_gets_the_soft_mask_and_masked_picture(comfy_nodes, sd15_inpaint):
    import comfy.patcher_extension

    model, clip, vae = sd15_inpaint
    image, mask, (positive, negative, latent) = _soft_conditioned(comfy_nodes, clip, vae, mask_strength=0.6)
    seen = []

    def record_concat(executor, x, *args, **kwargs):  # what the UNet itself receives: latent + concat channels
        seen.append(x[:, 4:].float().clone())
        return executor(x, *args, **kwargs)

    recording = model.clone()
    recording.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, "test", record_concat)
    out = node(comfy_nodes, "SoftLatentBlendKSampler").execute(
        model=recording, seed=1, steps=2, cfg=4.0, sampler_name="euler", scheduler="normal", positive=positive,
        negative=negative, latent_image=latent, denoise=1.0).args[0]["samples"]
    assert torch.isfinite(out).all() and seen
    # A1111: the unrounded 8-bit mask, nearest-resized; the picture lerped towards grey by mask * strength.
    levels = (mask * 255).round() / 255
    expected_mask = torch.nn.functional.interpolate(levels[None], size=(LATENT, LATENT))[0]
    source = image * 2 - 1
    masked = (torch.lerp(source, source * (1 - levels[..., None]), 0.6) + 1) / 2
    expected_image = model.get_model_object("latent_format").process_in(vae.encode(masked))
    assert ((expected_mask > 0.05) & (expected_mask < 0.95)).any()  # the mask really is soft
    for concat in seen:
        torch.testing.assert_close(concat[:, :1], expected_mask.expand(concat.shape[0], 1, -1, -1), rtol=0, atol=0)
        torch.testing.assert_close(concat[:, 1:], expected_image.expand(concat.shape[0], -1, -1, -1),
                                   rtol=1e-4, atol=1e-4)


def test_every_multigpu_clone_gets_the_soft_mask(comfy_nodes, sd15_inpaint, checkpoints_dir):
    """ComfyUIs with multi-GPU sampling (0.33) spread the conditionings of a step over per-device model clones
    (model_options["multigpu_clones"]). The soft mask reaches each clone's inpainting model: the sampler's
    APPLY_MODEL wrapper lives in the run's model_options, which every device's call merges. Two CPU "devices"
    stand in for two GPUs, each with its own model object."""
    import comfy.patcher_extension
    import comfy.samplers
    import comfy.sd

    if not hasattr(comfy.samplers, "_calc_cond_batch_multigpu"):
        pytest.skip("this ComfyUI has no multi-GPU sampling")
    model, clip, vae = sd15_inpaint
    second = comfy.sd.load_checkpoint_guess_config(str(checkpoints_dir / "tiny_sd15_inpaint.safetensors"))[0]
    second.load_device = torch.device("cpu", 0)  # equal to no other device key: a second "GPU"
    image, mask, (positive, negative, latent) = _soft_conditioned(comfy_nodes, clip, vae, mask_strength=1.0)
    seen = []

    def record_concat(executor, x, timesteps, context, y, control, transformer_options, **kwargs):
        # The UNet's input (latent + concat channels), the device the call ran for and the UNet that ran it.
        seen.append((transformer_options.get("multigpu_thread_device"), executor.class_obj, x[:, 4:5].float().clone()))
        return executor(x, timesteps, context, y, control, transformer_options, **kwargs)

    recording = model.clone()
    recording.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, "test", record_concat)
    recording.model_options["multigpu_clones"] = {recording.load_device: recording, second.load_device: second}
    second.pre_run()  # as the sampler readies its multi-GPU clones
    try:
        out = node(comfy_nodes, "SoftLatentBlendKSampler").execute(
            model=recording, seed=1, steps=2, cfg=4.0, sampler_name="euler", scheduler="normal", positive=positive,
            negative=negative, latent_image=latent, denoise=1.0).args[0]["samples"]
    finally:
        second.cleanup()
    assert torch.isfinite(out).all()
    levels = (mask * 255).round() / 255
    expected_mask = torch.nn.functional.interpolate(levels[None], size=(LATENT, LATENT))[0]
    devices = {device for device, _, _ in seen}
    assert devices == {recording.load_device, second.load_device}, f"calls on {devices}"
    assert {id(unet) for _, unet, _ in seen} == {id(model.model.diffusion_model), id(second.model.diffusion_model)}
    for _, _, concat in seen:
        torch.testing.assert_close(concat.cpu(), expected_mask.expand(concat.shape[0], 1, -1, -1), rtol=0, atol=0)


def test_latent_noise_fill_is_the_samplers_initial_noise(comfy_nodes, run):
    import comfy.patcher_extension

    mask = torch.zeros(1, PIXELS, PIXELS)
    mask[:, 16:48, 16:48] = 1
    latent = node(comfy_nodes, "SoftInpaintFill").execute(image=run["image"], mask=mask, vae=run["vae"],
                                                           masked_content="latent noise", seed=11,
                                                           model=run["model"]).args[0]
    seen = []

    def record_noise(executor, guider, sigmas, extra_args, callback, noise, *args, **kwargs):
        seen.append(noise.clone())
        return executor(guider, sigmas, extra_args, callback, noise, *args, **kwargs)

    recording = run["model"].clone()
    recording.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.SAMPLER_SAMPLE, "test", record_noise)
    node(comfy_nodes, "SoftLatentBlendKSampler").execute(
        model=recording, seed=11, steps=1, cfg=4.0, sampler_name="euler", scheduler="normal",
        positive=run["positive"], negative=run["negative"], latent_image=latent, denoise=1.0)
    hole = (slice(None), slice(None), slice(3, 5), slice(3, 5))  # where A1111's latent mask is 1
    filled = run["model"].get_model_object("latent_format").process_in(latent["samples"])
    torch.testing.assert_close(filled[hole], seen[0][hole], rtol=1e-5, atol=1e-5)


def _guiders(comfy_nodes, run, model):
    from comfy_extras import nodes_custom_sampler as custom
    from comfy_extras import nodes_perpneg

    positive, negative = run["positive"], run["negative"]
    return {
        "CFGGuider": custom.CFGGuider.execute(model, positive, negative, 5.0).args[0],
        "BasicGuider": custom.BasicGuider.execute(model, positive).args[0],
        "DualCFG regular 6/3": custom.DualCFGGuider.execute(model, positive, negative, negative, 6.0, 3.0,
                                                           "regular").args[0],
        "DualCFG nested 6/3": custom.DualCFGGuider.execute(model, positive, negative, negative, 6.0, 3.0,
                                                          "nested").args[0],
        "DualCFG 1/1": custom.DualCFGGuider.execute(model, positive, negative, negative, 1.0, 1.0,
                                                   "regular").args[0],
        "PerpNegGuider": nodes_perpneg.PerpNegGuider.execute(model, positive, negative, negative, 5.0, 1.0).args[0],
    }


def test_every_guider_keeps_the_unmasked_latent(comfy_nodes, run):
    import comfy.samplers

    mask = torch.zeros(1, PIXELS, PIXELS)
    mask[:, 24:40, 24:40] = 1
    masked = {"samples": run["latent"], "noise_mask": mask}
    sigmas = comfy.samplers.calculate_sigmas(run["model"].get_model_object("model_sampling"), "normal", 4)
    outside = a1111_latent_mask(mask, LATENT, LATENT)[0, 0] == 0
    stock_guiders = _guiders(comfy_nodes, run, run["model"])
    soft_guiders = _guiders(comfy_nodes, run, _patched(comfy_nodes, run, mask))
    failures = []
    for name, soft_guider in soft_guiders.items():
        stock = _sample_with_guider(stock_guiders[name], sigmas, masked)
        soft = _sample_with_guider(soft_guider, sigmas, masked)
        if not torch.isfinite(soft).all():
            failures.append(f"{name}: not finite")
            continue
        drift = ((soft - stock)[..., outside].norm() / stock[..., outside].norm()).item()
        print(f"{name}: unmasked latent {drift:.2e} relative from the stock masked run")
        if drift > 1e-4:
            failures.append(f"{name}: unmasked latent drifts {drift:.3g} from the stock masked run")
        if torch.allclose(soft[..., ~outside], stock[..., ~outside], atol=1e-3):
            failures.append(f"{name}: the masked area is not soft-blended")
    assert not failures, "\n".join(failures)


def _sample_with_guider(guider, sigmas, latent):
    import comfy.samplers
    from comfy_extras import nodes_custom_sampler as custom

    noise = custom.Noise_RandomNoise(3)
    return custom.SamplerCustomAdvanced.execute(noise, guider, comfy.samplers.sampler_object("euler"), sigmas,
                                                latent).args[0]["samples"]
