"""Soft inpainting inside ComfyUI's sampler: a wrapper around every sampler run.

ComfyUI blends each step linearly by the noise mask (KSamplerX0Inpaint). For the run, the wrapper
replaces that blend: a denoise-mask function hands the sampler a mask of ones (so the linear blend does
nothing), and the guider the sampler calls is wrapped so that its final prediction, after whatever way it
combines its conditionings (CFG, dual CFG, Perp-Neg...), is blended with the original as A1111 does.
Inpainting models get A1111's unrounded mask in their concat channels.

Models that take the noise mask among their conditionings read it as per-token timesteps (ComfyUI's Wan 2.2
per frame, LTX-Video per token) and are shown the clean original wherever it is 0. For them the mask of each
step is 0 where that step keeps the original wholly and 1 elsewhere, both for the sampler's input blend and
for the conditioning: there they see the original with timestep 0, as stock; elsewhere the full timestep.
"""

import comfy.model_sampling
import comfy.patcher_extension
import torch

from ..core import InpaintMasks, blend_denoised, eight_bit_levels, flow_to_sd_sigma, masks_for_latent, original_kept
from ..core.tensor_checks import check_range
from .pack_types import SoftSchedule, temporal_compression

WRAPPER_KEY = "soft_inpainting"
MISSING_MASK = (
    "Soft inpainting needs a mask: connect one to the sampler's 'mask' input, or give the latent a noise "
    "mask (Soft Inpaint Fill, Soft Inpaint Model Conditioning, Set Latent Noise Mask or InpaintModelConditioning)."
)

# Channels each concat key of an inpainting model takes (ComfyUI's BaseModel.concat_cond); None: latent's.
_CONCAT_CHANNELS = {"mask": 1, "mask_inverted": 1, "masked_image": None, "concat_image": None}


def _is_flow(model_sampling) -> bool:
    return isinstance(model_sampling, comfy.model_sampling.CONST)


def _for_call(mask: torch.Tensor, rows: int, window) -> torch.Tensor:
    """A run's per-sample mask [B or 1, ...] as one model call takes it: the frames of the call's context window
    (ComfyUI's context windows; all frames without one, or when the mask's frame axis is not the window's), for
    a model batch of `rows` rows (conditionings of B rows each)."""
    if window is not None and window.dim < mask.ndim and mask.shape[window.dim] == window.total_frames:
        mask = window.get_tensor(mask, mask.device)
    if rows % mask.shape[0]:
        raise ValueError(f"cannot spread a mask batch of {mask.shape[0]} over a model batch of {rows}")
    return mask.repeat(rows // mask.shape[0], *([1] * (mask.ndim - 1)))


class _SoftBlendRun:
    """The state of one sampler run: the original latent, A1111's latent mask and the step's mask."""

    def __init__(self, original, nmask, model_mask, schedule: SoftSchedule, flow: bool, previous_mask_function,
                 reads_mask: bool):
        self.original = original
        self.nmask = nmask
        self.model_mask = model_mask
        self.settings = schedule.settings
        self.convert_sigma = flow and schedule.sigma_space == "sd"
        self.previous_mask_function = previous_mask_function
        self.reads_mask = reads_mask
        self.step_mask = None
        self.shown = None  # for a model reading the mask: 1 where the step shows it its latent, 0: the original

    def denoise_mask(self, sigma, denoise_mask, extra_options):
        self.step_mask = denoise_mask
        if self.previous_mask_function is not None:  # another patch may shape the mask per step
            self.step_mask = self.previous_mask_function(sigma, denoise_mask, extra_options)
        if not self.reads_mask:
            return torch.ones_like(denoise_mask)
        kept = original_kept(self.step_mask.to(sigma.device), self._blend_sigma(sigma), self.settings)
        self.shown = (~kept).to(denoise_mask)
        return self.shown

    def _blend_sigma(self, sigma):
        return flow_to_sd_sigma(sigma) if self.convert_sigma else sigma

    def blend(self, denoised, sigma):
        original = self.original.to(device=denoised.device, dtype=denoised.dtype)
        blended = blend_denoised(original, denoised, self.step_mask.to(denoised), self._blend_sigma(sigma),
                                 self.settings)
        return blended.to(denoised.dtype)

    def apply_model(self, executor, x, t, c_concat=None, c_crossattn=None, control=None, transformer_options=None,
                    **kwargs):
        """Put the unrounded mask into an inpainting model's concat channels (ComfyUI rounds it), and the step's
        mask into the conditioning of a model that reads the mask as timesteps; under context windows, the
        window's frames of each."""
        window = (transformer_options or {}).get("context_window")
        if c_concat is not None:
            c_concat = self._with_soft_mask(executor.class_obj, c_concat, x, window)
        if self.shown is not None and "denoise_mask" in kwargs:
            kwargs["denoise_mask"] = self._step_conditioning_mask(kwargs["denoise_mask"], window)
        return executor(x, t, c_concat, c_crossattn, control, transformer_options, **kwargs)

    def _step_conditioning_mask(self, mask, window):
        """The step's mask laid out as the model's noise-mask conditioning ([rows, C, ...] at the latent's size);
        a conditioning of another size (a concat mask of its own) is left as it is."""
        shown = _for_call(self.shown, mask.shape[0], window)
        if shown.shape[2:] != mask.shape[2:]:
            return mask
        return shown.to(mask).expand_as(mask)

    def _with_soft_mask(self, model, c_concat, x, window):
        soft = c_concat.clone()
        start = 0
        for key in getattr(model, "concat_keys", ()):
            if key not in _CONCAT_CHANNELS:
                return c_concat  # a layout this wrapper does not know: leave it as ComfyUI made it
            if key in ("mask", "mask_inverted"):
                mask = _for_call(self.model_mask, x.shape[0], window).to(soft)
                soft[:, start:start + 1] = mask if key == "mask" else 1 - mask
            start += _CONCAT_CHANNELS[key] or x.shape[1]
        return soft


class _BlendingGuider:
    """The guider as the sampler sees it: each of its final predictions is soft-blended with the original."""

    def __init__(self, guider, run: _SoftBlendRun):
        self._guider = guider
        self._run = run

    def __call__(self, x, sigma, *args, **kwargs):
        return self._run.blend(self._guider(x, sigma, *args, **kwargs), sigma)

    def __getattr__(self, name):
        return getattr(self._guider, name)


def _soft_blend_wrapper(schedule: SoftSchedule, noise_multiplier: float, pixel_mask, latent_masks):
    def sampler_sample(executor, guider, sigmas, extra_args, callback, noise, latent_image=None,
                       denoise_mask=None, disable_pbar=False):
        masks = _run_masks(pixel_mask, latent_masks, denoise_mask, noise, guider.inner_model.latent_format)
        original = latent_image if latent_image is not None else torch.zeros_like(noise)
        model_options = extra_args["model_options"]  # the run's own copy (CFGGuider.inner_sample clones it)
        run = _SoftBlendRun(original, masks.blend, masks.model, schedule,
                            _is_flow(guider.inner_model.model_sampling), model_options.get("denoise_mask_function"),
                            _reads_noise_mask(guider))
        model_options["denoise_mask_function"] = run.denoise_mask
        comfy.patcher_extension.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.APPLY_MODEL, WRAPPER_KEY,
                                                     run.apply_model, model_options, is_model_options=True)
        noise = noise * noise_multiplier  # A1111's initial noise multiplier
        return executor(_BlendingGuider(guider, run), sigmas, extra_args, callback, noise, latent_image, masks.blend,
                        disable_pbar)

    return sampler_sample


def _reads_noise_mask(guider) -> bool:
    """Whether the model took the noise mask among its conditionings (ComfyUI's Wan 2.2 and LTX-Video models
    read it as per-token timesteps)."""
    conds = getattr(guider, "conds", None) or {}
    return any("denoise_mask" in cond.get("model_conds", {}) for group in conds.values() for cond in group)


def _run_masks(pixel_mask, latent_masks, denoise_mask, noise, latent_format) -> InpaintMasks:
    """The run's masks at the latent's size: those the node made, else A1111's from the patch's pixel mask,
    else the noise mask ComfyUI resized for the sampler, in A1111's 8-bit levels."""
    if latent_masks is not None:
        return latent_masks.to(noise.device)
    if pixel_mask is not None:
        return masks_for_latent(pixel_mask, noise.shape, temporal_compression(latent_format)).to(noise.device)
    if denoise_mask is None:
        raise ValueError(MISSING_MASK)
    levels = eight_bit_levels(denoise_mask[:, :1].to(noise.device))
    return InpaintMasks(levels, levels)


def with_soft_inpainting(model, schedule: SoftSchedule, noise_multiplier: float = 1.0, pixel_mask=None,
                         latent_masks: InpaintMasks | None = None):
    """A clone of the ModelPatcher `model` whose sampler runs soft-blend every step (replacing any
    earlier soft-inpainting patch, so it never blends twice). The masks are `latent_masks` where the node
    made them for the latent, else A1111's from `pixel_mask` (any MASK layout; for a video latent its
    frames), else the latent's noise mask as ComfyUI hands it to the sampler."""
    noise_multiplier = check_range(noise_multiplier, "initial_noise_multiplier", 0)
    patched = model.clone()
    patched.remove_wrappers_with_key(comfy.patcher_extension.WrappersMP.SAMPLER_SAMPLE, WRAPPER_KEY)
    patched.add_wrapper_with_key(
        comfy.patcher_extension.WrappersMP.SAMPLER_SAMPLE, WRAPPER_KEY,
        _soft_blend_wrapper(schedule, noise_multiplier, pixel_mask, latent_masks),
    )
    return patched
