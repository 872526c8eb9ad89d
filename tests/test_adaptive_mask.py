"""The post-sampling compositing mask and the pixel composite."""

import numpy as np
import pytest
import torch

import core
import core.adaptive_mask as adaptive_mask
import core.histogram_filter as histogram_filter


def _case(seed=0, batch=2, size=(12, 16)):
    generator = torch.Generator().manual_seed(seed)
    orig = torch.randn(batch, 4, *size, generator=generator)
    processed = orig.clone()
    processed[:, :, 3:9, 4:12] += 2 * torch.randn(batch, 4, 6, 8, generator=generator)
    nmask = torch.zeros(batch, 1, *size)
    nmask[:, :, 2:10, 3:13] = 1.0
    return nmask, orig, processed


def test_batch_samples_are_independent():
    nmask, orig, processed = _case()
    processed[1] = orig[1]  # the second sample did not change at all
    masks = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings())
    single = core.adaptive_latent_mask(nmask[:1], orig[:1], processed[:1], core.SoftInpaintSettings())
    torch.testing.assert_close(masks[:1], single)
    assert masks[0].max() > 0.9
    assert torch.equal(masks[1], torch.zeros_like(masks[1]))


def test_per_sample_mask_is_used():
    nmask, orig, processed = _case(seed=1)
    nmask[1] = 1 - nmask[1]
    settings = core.SoftInpaintSettings(mask_influence=1.0)
    masks = core.adaptive_latent_mask(nmask, orig, processed, settings)
    alone = core.adaptive_latent_mask(nmask[1:], orig[1:], processed[1:], settings)
    torch.testing.assert_close(masks[1:], alone)
    assert not torch.allclose(masks[0], masks[1])


def test_unchanged_latent_with_zero_threshold_keeps_original_without_nan():
    nmask, orig, _ = _case(seed=2)
    for settings in (core.SoftInpaintSettings(difference_threshold=0.0),
                     core.SoftInpaintSettings(mask_influence=1.0, preservation_strength=0.5)):
        masks = core.adaptive_latent_mask(torch.ones_like(nmask), orig, orig.clone(), settings)
        assert torch.equal(masks, torch.zeros_like(masks))


def test_any_change_with_zero_threshold_takes_the_inpainted_pixels():
    nmask, orig, processed = _case(seed=3)
    masks = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings(difference_threshold=0.0))
    assert not torch.isnan(masks).any()
    assert masks.max() == 1.0


def test_higher_threshold_keeps_more_of_the_original():
    nmask, orig, processed = _case(seed=4)
    low = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings(difference_threshold=0.25))
    high = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings(difference_threshold=4.0))
    assert (high <= low + 1e-5).all() and high.sum() < 0.5 * low.sum()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_latents(dtype):
    nmask, orig, processed = _case(seed=5)
    masks = core.adaptive_latent_mask(nmask.to(dtype), orig.to(dtype), processed.to(dtype), core.SoftInpaintSettings())
    reference = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings())
    assert torch.isfinite(masks).all()
    torch.testing.assert_close(masks, reference, rtol=0, atol=0.05)


def test_inputs_are_not_modified():
    tensors = _case(seed=6)
    copies = [x.clone() for x in tensors]
    masks = core.adaptive_latent_mask(*tensors, core.SoftInpaintSettings())
    images = torch.rand(2, 96, 128, 3), torch.rand(2, 96, 128, 3)
    image_copies = [x.clone() for x in images]
    pixel_mask = core.pixel_composite_mask(masks, 96, 128)
    mask_copy = pixel_mask.clone()
    core.composite(*images, pixel_mask)
    for x, copy in zip((*tensors, *images, pixel_mask), (*copies, *image_copies, mask_copy), strict=True):
        assert torch.equal(x, copy)


def test_pixel_mask_size_range_and_levels():
    latent_mask = torch.zeros(2, 16, 16)
    latent_mask[0, 4:12, 4:12] = 1.0
    pixels = core.pixel_composite_mask(latent_mask, 128, 128)
    assert pixels.shape == (2, 128, 128) and pixels.dtype == torch.float32
    assert pixels.min() >= 0 and pixels.max() <= 1
    assert torch.equal(pixels[1], torch.zeros(128, 128))
    assert pixels[0, 64, 64] == 1.0 and pixels[0, 0, 0] == 0.0
    assert torch.equal(torch.round(pixels * 255), pixels * 255)  # 8-bit levels, as A1111's mask image


def test_composite_is_exact_at_both_ends():
    original, inpainted = torch.rand(1, 16, 16, 3), torch.rand(3, 16, 16, 3)
    mask = torch.zeros(3, 16, 16)
    mask[:, 4:12, 4:12] = 1.0
    mask[2, 0, 0] = 0.25
    out = core.composite(original, inpainted, mask)
    assert out.shape == (3, 16, 16, 3)
    keep = mask == 0
    assert torch.equal(out[keep], original.expand(3, -1, -1, -1)[keep])
    assert torch.equal(out[mask == 1], inpainted[mask == 1])
    torch.testing.assert_close(out[2, 0, 0], 0.75 * original[0, 0, 0] + 0.25 * inpainted[2, 0, 0])


def test_composite_accepts_a_single_mask():
    original, inpainted = torch.rand(2, 8, 8, 3), torch.rand(2, 8, 8, 3)
    out = core.composite(original, inpainted, torch.ones(8, 8))
    assert torch.equal(out, inpainted)


@pytest.mark.parametrize(
    "nmask_shape, orig_shape, processed_shape, message",
    [
        ((2, 8, 8), (2, 4, 8, 8), (2, 4, 8), "must be \\[B,C,h,w\\]"),
        ((2, 8, 8), (2, 4, 8, 8), (2, 16, 8, 8), "differ in channels"),
        ((3, 8, 8), (2, 4, 8, 8), (2, 4, 8, 8), "nmask has batch 3; expected 1 or 2"),
        ((2, 16, 16), (2, 4, 8, 8), (2, 4, 8, 8), "resize the mask"),
        ((2, 1, 1, 8, 8), (2, 4, 8, 8), (2, 4, 8, 8), "nmask must be"),
    ],
)
def test_adaptive_mask_bad_shapes(nmask_shape, orig_shape, processed_shape, message):
    with pytest.raises(ValueError, match=message):
        core.adaptive_latent_mask(torch.zeros(nmask_shape), torch.zeros(orig_shape), torch.zeros(processed_shape),
                                  core.SoftInpaintSettings())


@pytest.mark.parametrize(
    "original, inpainted, mask, message",
    [
        ((8, 8, 3), (1, 8, 8, 3), (1, 8, 8), r"original must be \[B,H,W,C\]"),
        ((1, 8, 8, 3), (1, 1, 8, 8, 3), (1, 8, 8), r"inpainted must be \[B,H,W,C\]"),
        ((1, 8, 8, 3), (1, 8, 9, 3), (1, 8, 8), "differ in size"),
        ((1, 8, 8, 3), (1, 8, 8, 3), (1, 4, 4), "pixel_mask must be"),
        ((2, 8, 8, 3), (3, 8, 8, 3), (1, 8, 8), "batch"),
    ],
)
def test_composite_bad_shapes(original, inpainted, mask, message):
    with pytest.raises(ValueError, match=message):
        core.composite(torch.zeros(original), torch.zeros(inpainted), torch.zeros(mask))


def test_pixel_mask_bad_input():
    with pytest.raises(ValueError, match="latent_mask must be"):
        core.pixel_composite_mask(torch.zeros(1, 1, 8, 8), 64, 64)
    with pytest.raises(ValueError, match="height"):
        core.pixel_composite_mask(torch.zeros(1, 8, 8), 0, 64)
    with pytest.raises(TypeError, match="width"):
        core.pixel_composite_mask(torch.zeros(1, 8, 8), 64, 2.5)
    with pytest.raises(ValueError, match="latent_mask must not be empty"):
        core.pixel_composite_mask(torch.zeros(0, 8, 8), 64, 64)


def test_pixel_mask_of_an_overshooting_mask_is_that_of_the_clamped_mask():
    mask = torch.rand(2, 8, 8) * 1.1 - 0.05
    assert torch.equal(core.pixel_composite_mask(mask, 32, 48), core.pixel_composite_mask(mask.clamp(0, 1), 32, 48))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("name", ["nmask", "latent_orig", "latent_processed"])
def test_adaptive_mask_names_non_finite_inputs(name, bad):
    tensors = dict(zip(("nmask", "latent_orig", "latent_processed"), _case(seed=9), strict=True))
    tensors[name] = tensors[name].clone()
    tensors[name][0, 0, 3, 3] = bad
    with pytest.raises(ValueError, match=f"{name} holds NaN"):
        core.adaptive_latent_mask(**tensors, settings=core.SoftInpaintSettings())


@pytest.mark.parametrize("name, shape", [("nmask", (2, 0, 12, 16)), ("latent_orig", (2, 0, 12, 16))])
def test_adaptive_mask_rejects_empty_inputs(name, shape):
    tensors = dict(zip(("nmask", "latent_orig", "latent_processed"), _case(seed=10), strict=True))
    tensors[name] = torch.zeros(shape)
    with pytest.raises(ValueError, match=f"{name} must not be empty"):
        core.adaptive_latent_mask(**tensors, settings=core.SoftInpaintSettings())


def test_large_float16_latents_do_not_overflow():
    nmask, orig, processed = _case(seed=11)
    orig, processed = orig.sign().half() * 6e4, -orig.sign().half() * 6e4
    masks = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings())
    assert masks.dtype == torch.float32 and torch.isfinite(masks).all()
    assert torch.equal(masks, core.adaptive_latent_mask(nmask, orig.float(), processed.float(),
                                                        core.SoftInpaintSettings()))


def test_adaptive_mask_of_an_overshooting_mask_is_that_of_the_clamped_mask():
    nmask, orig, processed = _case(seed=12)
    nmask = torch.rand(nmask.shape) * 1.1 - 0.05
    settings = core.SoftInpaintSettings(mask_influence=1.0)
    assert torch.equal(core.adaptive_latent_mask(nmask, orig, processed, settings),
                       core.adaptive_latent_mask(nmask.clamp(0, 1), orig, processed, settings))


def test_composite_clamps_the_mask_and_names_bad_images():
    original, inpainted = torch.rand(1, 8, 8, 3), torch.rand(1, 8, 8, 3)
    mask = torch.rand(1, 8, 8) * 1.1 - 0.05
    assert torch.equal(core.composite(original, inpainted, mask), core.composite(original, inpainted, mask.clamp(0, 1)))
    original[0, 1, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="original holds NaN"):
        core.composite(original, inpainted, mask)
    with pytest.raises(ValueError, match="pixel_mask must not be empty"):
        core.composite(inpainted, inpainted, torch.zeros(1, 0, 8))


def test_composite_of_large_float16_images_is_finite():
    original, inpainted = torch.full((1, 4, 4, 3), 6e4).half(), torch.full((1, 4, 4, 3), -6e4).half()
    out = core.composite(original, inpainted, torch.full((4, 4), 0.5))
    assert out.dtype == torch.float16 and torch.equal(out, torch.zeros_like(out))


def test_smootherstep_is_flat_outside_0_1_and_names_bad_input():
    x = torch.tensor([-2.0, 0.0, 0.5, 1.0, 6e4]).half()
    assert torch.equal(core.smootherstep(x), torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0]).half())
    with pytest.raises(ValueError, match="'x' holds NaN"):
        core.smootherstep(torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="'x' must not be empty"):
        core.smootherstep(torch.zeros(0))


def test_tensors_that_require_grad_are_accepted():
    nmask, orig, processed = _case(seed=8)
    processed.requires_grad_(True)
    masks = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings())
    reference = core.adaptive_latent_mask(nmask, orig, processed.detach(), core.SoftInpaintSettings())
    torch.testing.assert_close(masks.detach(), reference)


def _video_case(seed=0, batch=2, channels=16, frames=5, size=(10, 13)):
    generator = torch.Generator().manual_seed(seed)
    orig = torch.randn(batch, channels, frames, *size, generator=generator)
    processed = orig + torch.randn(orig.shape, generator=generator) * (torch.rand(batch, 1, frames, *size) > 0.5)
    nmask = torch.rand(batch, channels, frames, *size, generator=generator)
    return nmask, orig, processed


@pytest.mark.parametrize("layout", ["[B,T,h,w]", "[B,1,T,h,w]", "[B,C,T,h,w]", "[1,T,h,w]"])
def test_video_frames_equal_the_image_result(layout):
    nmask, orig, processed = _video_case()
    nmask = {"[B,T,h,w]": nmask[:, 0], "[B,1,T,h,w]": nmask[:, :1], "[B,C,T,h,w]": nmask,
             "[1,T,h,w]": nmask[:1, 0]}[layout]
    settings = core.SoftInpaintSettings(mask_influence=0.5)
    masks = core.adaptive_latent_mask(nmask, orig, processed, settings)
    assert masks.shape == (2, 5, 10, 13) and masks.dtype == torch.float32
    for t in range(5):
        frame_mask = nmask[:, :, t] if nmask.ndim == 5 else nmask[:, t]
        image = core.adaptive_latent_mask(frame_mask, orig[:, :, t], processed[:, :, t], settings)
        assert torch.equal(masks[:, t], image), f"frame {t}"


def test_video_in_small_chunks_gives_the_same_result(monkeypatch):
    nmask, orig, processed = _video_case(seed=1, batch=1, frames=7)
    whole = core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings())
    monkeypatch.setattr(adaptive_mask, "_DISTANCE_ELEMENTS_PER_CHUNK", 16 * 10 * 13 * 2)  # two frames a chunk
    monkeypatch.setattr(histogram_filter, "_WINDOW_ELEMENTS_PER_CHUNK", 13 * 25 * 3)  # three rows a chunk
    assert torch.equal(core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings()), whole)


def test_video_batch_broadcasts_and_low_precision():
    nmask, orig, processed = _video_case(seed=2, batch=3, channels=4, frames=3)
    masks = core.adaptive_latent_mask(nmask[:1], orig[:1], processed, core.SoftInpaintSettings())
    assert masks.shape == (3, 3, 10, 13)
    for b in range(3):
        single = core.adaptive_latent_mask(nmask[:1], orig[:1], processed[b:b + 1], core.SoftInpaintSettings())
        assert torch.equal(masks[b:b + 1], single)
    half = core.adaptive_latent_mask(nmask.half(), orig.half(), processed.half(), core.SoftInpaintSettings())
    assert torch.isfinite(half).all() and half.shape == (3, 3, 10, 13)


@pytest.mark.parametrize(
    "nmask_shape, orig_shape, processed_shape, message",
    [
        ((2, 8, 8), (2, 4, 3, 8, 8), (2, 4, 3, 8, 8), "nmask must be \\[B,T,h,w\\] or \\[B,C,T,h,w\\]"),
        ((2, 4, 8, 8), (2, 4, 3, 8, 8), (2, 4, 3, 8, 8), "resize the mask"),
        ((2, 1, 2, 8, 8), (2, 4, 3, 8, 8), (2, 4, 3, 8, 8), "resize the mask"),
        ((2, 3, 8, 8), (2, 4, 3, 8, 8), (2, 4, 8, 8), "differ in channels, frames or size"),
        ((2, 3, 8, 8), (2, 4, 3, 8, 8), (2, 4, 2, 8, 8), "differ in channels, frames or size"),
        ((3, 3, 8, 8), (2, 4, 3, 8, 8), (2, 4, 3, 8, 8), "nmask has batch 3; expected 1 or 2"),
        ((2, 3, 8, 8), (2, 4, 3, 1, 8, 8), (2, 4, 3, 1, 8, 8), "\\[B,C,T,h,w\\]"),
    ],
)
def test_video_bad_shapes(nmask_shape, orig_shape, processed_shape, message):
    with pytest.raises(ValueError, match=message):
        core.adaptive_latent_mask(torch.zeros(nmask_shape), torch.zeros(orig_shape), torch.zeros(processed_shape),
                                  core.SoftInpaintSettings())


def test_pixel_mask_reads_pillows_pixels_exactly():
    """The pixels are read by pasting into shared memory; they must be Pillow's own, for every size and batch."""
    from PIL import Image, ImageFilter

    generator = torch.Generator().manual_seed(3)
    latent = torch.rand(2, 9, 13, generator=generator)
    pixel = core.pixel_composite_mask(latent, 77, 101)
    for sample, mask in zip(pixel, latent, strict=True):
        levels = (mask * 255).to(torch.uint8).numpy()
        image = Image.fromarray(levels).resize((101, 77), Image.LANCZOS).filter(ImageFilter.GaussianBlur(4))
        assert torch.equal(sample, torch.from_numpy(np.array(image)).float() / 255)
