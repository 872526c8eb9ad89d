"""Inpaint only masked: crop boxes, crop, stitch, against A1111's steps (tests/reference_crop.py)."""

import numpy as np
import pytest
import reference_crop as a1111
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.crop import crop, crop_boxes, expand_to_aspect, mask_box, stitch


def _mask(height, width, box):
    mask = torch.zeros(height, width)
    x1, y1, x2, y2 = box
    mask[y1:y2, x1:x2] = 1.0
    return mask


def _levels(x: torch.Tensor) -> np.ndarray:
    return (x.float() * 255).round().numpy()


def _photo(height, width, seed):
    """An 8-bit picture with smooth areas, fine texture and a hard edge, as a [H,W,3] uint8 array."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(height // 6, 2), max(width // 6, 2), 3), dtype=np.uint8)
    picture = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)).copy()
    picture[::3] = rng.integers(0, 256, picture[::3].shape, dtype=np.uint8)
    picture[:, : width // 3] //= 3
    return picture


# --- boxes -------------------------------------------------------------------------------------------------


def test_mask_box_with_padding_stays_inside():
    mask = _mask(100, 120, (30, 40, 50, 45))
    assert mask_box(mask, 0) == (30, 40, 50, 45)
    assert mask_box(mask, 32) == (0, 8, 82, 77)
    assert mask_box(torch.zeros(10, 20), 4) == (0, 0, 20, 10)
    faint = torch.zeros(10, 10)
    faint[3, 4] = 0.4 / 255  # 0 in an 8-bit mask: outside the box
    faint[5, 6] = 0.6 / 255  # level 1
    assert mask_box(faint, 0) == (6, 5, 7, 6)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.data())
def test_mask_box_is_a1111_get_crop_region_v2(height, width, data):
    seed, pad = data.draw(st.integers(0, 2**32 - 1)), data.draw(st.integers(0, 12))
    rng = np.random.default_rng(seed)
    levels = (rng.random((height, width)) < data.draw(st.floats(0.002, 0.3))) * rng.integers(1, 256, (height, width))
    levels = levels.astype(np.uint8)
    expected = a1111.get_crop_region_v2(Image.fromarray(levels), pad) or (0, 0, width, height)
    assert mask_box(torch.from_numpy(levels).float() / 255, pad) == expected


@pytest.mark.parametrize("box, size, image, expected", [
    ((30, 40, 50, 45), (64, 64), (120, 100), (30, 33, 50, 53)),     # wide box grows in height, odd pixel after
    ((30, 40, 35, 80), (64, 32), (120, 100), (0, 40, 80, 80)),      # narrow box grows in width, pushed inside
    ((100, 0, 120, 10), (32, 32), (120, 100), (100, 0, 120, 20)),   # at the corner: shifted back inside
    ((10, 10, 30, 30), (64, 64), (120, 100), (10, 10, 30, 30)),     # already the aspect
    ((0, 0, 120, 100), (64, 32), (120, 100), (0, 0, 120, 100)),     # the whole picture stays the whole picture
])
def test_expand_to_aspect(box, size, image, expected):
    assert expand_to_aspect(box, *size, *image) == expected


@settings(max_examples=2000, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 2048), st.integers(1, 2048), st.data())
def test_expand_to_aspect_is_a1111_expand_crop_region(image_width, image_height, width, height, data):
    x1 = data.draw(st.integers(0, image_width - 1))
    y1 = data.draw(st.integers(0, image_height - 1))
    box = (x1, y1, data.draw(st.integers(x1 + 1, image_width)), data.draw(st.integers(y1 + 1, image_height)))
    expected = a1111.expand_crop_region(box, width, height, image_width, image_height)
    assert expand_to_aspect(box, width, height, image_width, image_height) == expected


def test_crop_boxes_follow_a1111_per_sample():
    rng = np.random.default_rng(4)
    levels = np.zeros((3, 90, 130), np.uint8)
    levels[0, 30:35, 40:100] = 255                      # wide: grows in height
    levels[1, 5:80, 2:9] = rng.integers(1, 256, (75, 7))  # tall at the left edge: clamped there
    levels[2, 60, 128] = 1                              # one faint pixel in the corner
    masks = torch.from_numpy(levels).float() / 255
    boxes = crop_boxes(masks, 16, 64, 48)
    for box, sample in zip(boxes, levels, strict=True):
        picture = Image.fromarray(sample)
        assert box == a1111.expand_crop_region(a1111.get_crop_region_v2(picture, 16), 64, 48, 130, 90)
    assert len(set(boxes)) == 3
    assert crop_boxes(torch.zeros(1, 90, 130), 16, 64, 48) == [(0, 0, 130, 90)]  # empty: the whole picture


# --- crop ------------------------------------------------------------------------------------------------------


def _a1111_crop(picture: np.ndarray, levels: np.ndarray, pad: int, width: int, height: int):
    region, paste_to, image, mask = a1111.only_masked_inputs(
        Image.fromarray(picture), Image.fromarray(levels), pad, width, height)
    return region, paste_to, np.asarray(image, np.float64), np.asarray(mask, np.float64)[..., 0]


def _band_rows(box, width, height):
    """Rows (or columns) of the working picture A1111 fills from the edge: where the box's aspect differs."""
    w, h = box[2] - box[0], box[3] - box[1]
    if width / height < w / h:
        fit = h * width // w
        return np.s_[: height // 2 - fit // 2], np.s_[height // 2 - fit // 2 + fit:], np.s_[:]
    fit = w * height // h
    return np.s_[:], np.s_[: width // 2 - fit // 2], np.s_[width // 2 - fit // 2 + fit:]


@pytest.mark.parametrize("mask_box_, pad, size", [
    ((20, 30, 60, 40), 8, (64, 64)),      # inside: grows to the aspect, no bands
    ((2, 4, 14, 70), 6, (96, 48)),        # tall at the left edge: clamped box, bands left and right
    ((50, 70, 110, 78), 24, (40, 72)),    # wide at the bottom edge: bands above and below
    ((0, 0, 130, 90), 0, (64, 64)),       # the whole picture
    ((60, 40, 64, 44), 2, (128, 128)),    # tiny: upscaled a lot
])
def test_crop_is_a1111_resize_and_fill(mask_box_, pad, size):
    width, height = size
    picture = _photo(90, 130, seed=sum(mask_box_))
    levels = (_levels(_mask(90, 130, mask_box_)) * np.linspace(0.2, 1, 130)).round().astype(np.uint8)
    region, _, expected_image, expected_mask = _a1111_crop(picture, levels, pad, width, height)

    images, masks = torch.from_numpy(picture)[None].float() / 255, torch.from_numpy(levels)[None].float() / 255
    boxes = crop_boxes(masks, pad, width, height)
    assert boxes == [region]
    crops, crop_masks = crop(images, masks, boxes, width, height)
    assert crops.shape == (1, height, width, 3) and crop_masks.shape == (1, height, width)

    # A1111 rounds to 8 bits after each pass of each resize; ours does not. Rounded, ours is within one
    # level of A1111's picture, and within two in the edge bands, which A1111 resamples from its own
    # rounded picture (Lanczos' weights 1.22, -0.27, 0.05 amplify that rounding).
    for ours, expected in ((_levels(crops[0]), expected_image), (_levels(crop_masks[0])[..., None],
                                                                  expected_mask[..., None])):
        difference = np.abs(ours - expected)
        assert difference.max() <= 2
        body = np.ones(difference.shape[:2], bool)
        if (region[2] - region[0]) * height != (region[3] - region[1]) * width:
            for rows_or_columns in (_band_rows(region, width, height)[:2], _band_rows(region, width, height)[::2]):
                body[rows_or_columns] = False
        assert difference[body].max() <= 1


def test_a_box_clamped_at_the_edge_is_never_stretched():
    picture = _photo(90, 130, seed=7)
    levels = _levels(_mask(90, 130, (2, 4, 14, 70))).astype(np.uint8)
    region, _, expected, _ = _a1111_crop(picture, levels, 6, 96, 48)
    x1, y1, x2, y2 = region
    assert (x2 - x1) / (y2 - y1) != 96 / 48  # the box could not reach the working aspect
    images, masks = torch.from_numpy(picture)[None].float() / 255, torch.from_numpy(levels)[None].float() / 255
    crops, _ = crop(images, masks, [region], 96, 48)
    stretched = np.asarray(Image.fromarray(picture).crop(region).resize((96, 48), Image.Resampling.LANCZOS), float)
    assert np.abs(stretched - expected).mean() > 10  # stretching is far from A1111's picture...
    assert np.abs(_levels(crops[0]) - expected).mean() < 0.5  # ...and ours is not stretched


@pytest.mark.parametrize("picture_size, working", [((8, 16), (8, 9)), ((1, 100), (8, 8)), ((100, 1), (8, 8))])
def test_odd_sizes_and_flat_boxes_leave_no_black_rows(picture_size, working):
    # Where A1111 would leave a black last row (odd height, even fitted height) or fail (a fitted side of 0
    # pixels), every row and column of the crop carries the picture.
    images = torch.full((1, *picture_size, 3), 0.6)
    crops, crop_masks = crop(images, torch.ones(1, *picture_size), [(0, 0, picture_size[1], picture_size[0])],
                             *working)
    torch.testing.assert_close(crops, torch.full((1, working[1], working[0], 3), 0.6), rtol=0, atol=1e-6)
    torch.testing.assert_close(crop_masks, torch.ones(1, working[1], working[0]), rtol=0, atol=1e-6)


def test_the_reference_resize_is_pillows_when_pillow_resizes_rows_first():
    # When both sides grow every Pillow resizes rows first; the reference's spelled-out passes must then give
    # Pillow's own picture exactly, or the comparisons above would test the wrong thing.
    picture = Image.fromarray(_photo(30, 40, seed=1))
    for size, box in (((90, 70), None), ((64, 64), (3, 5, 31, 29))):
        expected = picture.resize(size, Image.Resampling.LANCZOS, box=box)
        np.testing.assert_array_equal(np.asarray(a1111.resize(picture, size, box)), np.asarray(expected))


# --- stitch ----------------------------------------------------------------------------------------------------


def _originals_and_changes(seed, height=90, width=130):
    rng = np.random.default_rng(seed)
    originals = torch.from_numpy(_photo(height, width, seed)).float()[None] / 255
    return originals, rng


def test_stitch_is_original_plus_mask_times_change_where_nothing_is_resampled():
    originals, rng = _originals_and_changes(seed=11)
    boxes = [(20, 10, 84, 74)]  # 64 x 64: the working size, so the crop comes back as it is
    generated = torch.from_numpy(rng.random((1, 64, 64, 3), np.float32))
    composite_mask = torch.from_numpy(rng.random((1, 64, 64), np.float32))
    composite_mask[:, :20] = 0
    composite_mask[:, 40:] = 1
    out = stitch(originals, generated, boxes, crop_masks=composite_mask)
    region = originals[:, 10:74, 20:84]
    expected = region + composite_mask[..., None] * (generated - region)
    torch.testing.assert_close(out[:, 10:74, 20:84], expected, rtol=0, atol=1e-6)
    assert torch.equal(out[:, 10:74, 20:84][:, 40:], generated[:, 40:])        # m = 1: the new content exactly
    assert torch.equal(out[:, 10:74, 20:84][:, :20], region[:, :20])           # m = 0: the original exactly
    outside = torch.ones(90, 130, dtype=torch.bool)
    outside[10:74, 20:84] = False
    assert torch.equal(out[0][outside], originals[0][outside])
    assert (out - originals).abs().max() > 0.5  # content really changed


@pytest.mark.parametrize("box, working", [((20, 10, 84, 58), (96, 72)), ((0, 3, 40, 90), (48, 96)),
                                          ((70, 30, 130, 52), (64, 32))])
def test_stitch_with_crop_masks_is_a1111_uncrop(box, working):
    """A1111's soft-inpainting paste: the generated crop and the composite mask both uncropped with
    resize_image(1) to the box, then original + m * (generated - original)."""
    width, height = working
    originals, rng = _originals_and_changes(seed=sum(box))
    generated = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    composite = np.array(Image.fromarray(rng.integers(0, 256, (height // 4, width // 4), dtype=np.uint8)).resize(
        (width, height), Image.Resampling.BILINEAR))
    paste_to = (box[0], box[1], box[2] - box[0], box[3] - box[1])
    uncropped = np.asarray(a1111.uncrop(Image.fromarray(generated), (130, 90), paste_to))[..., :3] / 255
    m = np.asarray(a1111.uncrop(Image.fromarray(composite), (130, 90), paste_to).convert("L")) / 255
    original = originals[0].double().numpy()
    expected = original + m[..., None] * (uncropped - original)

    out = stitch(originals, torch.from_numpy(generated)[None].float() / 255, [box],
                 crop_masks=torch.from_numpy(composite)[None].float() / 255)
    # The generated crop and the mask are each within A1111's rounding of its uncrop (measured: 1.2 levels
    # at most), so the blend is within 2.5 levels, and mostly within 1.
    difference = np.abs(out[0].double().numpy() - expected) * 255
    assert difference.max() < 2.5 and np.mean(difference > 1) < 0.01
    x1, y1, x2, y2 = box
    outside = np.ones((90, 130), bool)
    outside[y1:y2, x1:x2] = False
    assert torch.equal(out[0][torch.from_numpy(outside | (m == 0))], originals[0][torch.from_numpy(outside | (m == 0))])
    assert np.abs(expected - original).max() > 0.5  # content really changed


def test_stitch_with_full_masks_uses_the_mask_as_it_is():
    originals, rng = _originals_and_changes(seed=5)
    levels = np.zeros((90, 130), np.uint8)
    levels[30:50, 40:70] = rng.integers(0, 256, (20, 30))
    full_mask = torch.from_numpy(levels)[None].float() / 255
    boxes = crop_boxes(full_mask, 8, 64, 64)
    generated = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    x1, y1, x2, y2 = boxes[0]
    uncropped = np.asarray(a1111.uncrop(Image.fromarray(generated), (130, 90), (x1, y1, x2 - x1, y2 - y1)))
    original = originals[0].double().numpy()
    m = levels[..., None] / 255
    expected = original + m * (uncropped[..., :3] / 255 - original)

    out = stitch(originals, torch.from_numpy(generated)[None].float() / 255, boxes, full_masks=full_mask)
    assert np.abs(out[0].double().numpy() - expected).max() * 255 < 1.25  # the uncrop's rounding, scaled by m
    untouched = torch.from_numpy(levels == 0)
    assert torch.equal(out[0][untouched], originals[0][untouched])
    assert np.abs(expected - original).max() > 0.5


def test_stitch_ignores_a_full_mask_outside_its_box():
    originals = torch.rand(1, 40, 40, 3, generator=torch.Generator().manual_seed(0))
    out = stitch(originals, torch.ones(1, 8, 8, 3), [(10, 10, 18, 18)], full_masks=torch.ones(1, 40, 40))
    assert torch.equal(out[0, 10:18, 10:18], torch.ones(8, 8, 3))
    out[0, 10:18, 10:18] = originals[0, 10:18, 10:18]
    assert torch.equal(out, originals)


def test_rgb_crops_into_rgba_originals_keep_the_alpha():
    generator = torch.Generator().manual_seed(2)
    originals = torch.rand(2, 32, 48, 4, generator=generator)
    crops = torch.rand(2, 16, 16, 3, generator=generator)
    boxes = [(8, 8, 24, 24), (30, 10, 46, 26)]
    out = stitch(originals, crops, boxes, crop_masks=torch.ones(2, 16, 16))
    assert out.shape == originals.shape
    assert torch.equal(out[..., 3], originals[..., 3])
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        assert torch.equal(out[i, y1:y2, x1:x2, :3], crops[i])


def test_round_trip_at_the_working_size_is_exact_and_batches_keep_their_boxes():
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 100), torch.linspace(0, 1, 120), indexing="ij")
    images = torch.stack([torch.stack([ys, xs, (ys + xs) / 2], dim=-1), torch.stack([xs, ys, 1 - xs], dim=-1)])
    masks = torch.stack([_mask(100, 120, (30, 40, 50, 45)), _mask(100, 120, (60, 10, 100, 30))])
    boxes = crop_boxes(masks, 16, 64, 64)
    assert boxes[0] != boxes[1]
    crops, crop_masks = crop(images, masks, boxes, 64, 64)
    assert torch.equal(stitch(images, crops, boxes, crop_masks=torch.zeros_like(crop_masks)), images)
    stitched = stitch(images, crops, boxes, crop_masks=crop_masks)
    outside = torch.stack([_mask(100, 120, box) for box in boxes]) == 0
    assert torch.equal(stitched[outside], images[outside])
    assert (stitched - images).abs().max() < 0.02  # two smooth resamplings of a gradient
    whole = torch.ones(1, 64, 64)
    same = crop(images[:1, :64, :64], whole, [(0, 0, 64, 64)], 64, 64)
    assert torch.equal(same[0], images[:1, :64, :64])
    assert torch.equal(stitch(images[:1, :64, :64], same[0], [(0, 0, 64, 64)], crop_masks=same[1]),
                       images[:1, :64, :64])


# --- dtypes, devices, bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_dtypes_are_kept_and_inputs_untouched(dtype):
    generator = torch.Generator().manual_seed(9)
    images = torch.rand(2, 40, 50, 3, generator=generator).to(dtype)
    masks = torch.zeros(2, 40, 50, dtype=torch.bool)
    masks[:, 10:20, 10:30] = True
    before = images.clone(), masks.clone()
    boxes = crop_boxes(masks, 4, 32, 32)
    crops, crop_masks = crop(images, masks, boxes, 32, 32)
    assert crops.dtype == dtype and crop_masks.dtype == torch.float32  # bool masks give float32, as across core
    out = stitch(images, 1 - crops, boxes, crop_masks=crop_masks)
    full = stitch(images, 1 - crops, boxes, full_masks=masks)
    assert out.dtype == dtype and full.dtype == dtype
    assert torch.equal(images, before[0]) and torch.equal(masks, before[1])
    assert torch.equal(full[~masks], images[~masks])
    assert (full[masks] - images[masks]).abs().max() > 0.3


def test_masks_slightly_outside_0_1_are_clamped():
    images = torch.rand(1, 30, 30, 3, generator=torch.Generator().manual_seed(1))
    masks = torch.zeros(1, 30, 30)
    masks[:, 10:20, 10:20] = 1.03
    masks[:, 0, 0] = -0.02
    boxes = crop_boxes(masks, 0, 10, 10)
    assert boxes == [(10, 10, 20, 20)]
    _, crop_masks = crop(images, masks, boxes, 10, 10)
    assert torch.equal(crop_masks, torch.ones(1, 10, 10))
    out = stitch(images, torch.zeros(1, 10, 10, 3), boxes, full_masks=masks)
    assert torch.equal(out[:, 10:20, 10:20], torch.zeros(1, 10, 10, 3))
    assert out[0, 0, 0].equal(images[0, 0, 0])


_IMAGES, _MASKS, _BOXES = torch.rand(2, 20, 30, 3), torch.ones(2, 20, 30), [(0, 0, 30, 20)] * 2


@pytest.mark.parametrize("args, error, match", [
    ((torch.rand(20, 30, 3), _MASKS, _BOXES, 8, 8), ValueError, "images"),
    ((torch.rand(0, 20, 30, 3), _MASKS[:0], [], 8, 8), ValueError, "images"),
    ((torch.rand(2, 0, 30, 3), _MASKS, _BOXES, 8, 8), ValueError, "images"),
    ((_IMAGES.to(torch.uint8), _MASKS, _BOXES, 8, 8), TypeError, "images"),
    ((_IMAGES.clone().index_fill_(1, torch.tensor([3]), float("nan")), _MASKS, _BOXES, 8, 8), ValueError, "images"),
    ((_IMAGES, _MASKS[:1], _BOXES, 8, 8), ValueError, "masks"),
    ((_IMAGES, torch.ones(2, 20, 31), _BOXES, 8, 8), ValueError, "masks"),
    ((_IMAGES, torch.full((2, 20, 30), float("nan")), _BOXES, 8, 8), ValueError, "masks"),
    ((_IMAGES, _MASKS.long(), _BOXES, 8, 8), TypeError, "masks"),
    ((_IMAGES, _MASKS, _BOXES[:1], 8, 8), ValueError, "boxes"),
    ((_IMAGES, _MASKS, [(0, 0, 31, 20)] * 2, 8, 8), ValueError, "boxes"),
    ((_IMAGES, _MASKS, [(5, 0, 5, 20)] * 2, 8, 8), ValueError, "boxes"),
    ((_IMAGES, _MASKS, [(0, 0, 30)] * 2, 8, 8), ValueError, "boxes"),
    ((_IMAGES, _MASKS, [(0.5, 0, 30, 20)] * 2, 8, 8), TypeError, "boxes"),
    ((_IMAGES, _MASKS, _BOXES, 0, 8), ValueError, "width"),
    ((_IMAGES, _MASKS, _BOXES, 8, 0.5), TypeError, "height"),
])
def test_crop_rejects_bad_input_by_name(args, error, match):
    with pytest.raises(error, match=match):
        crop(*args)


@pytest.mark.parametrize("masks, padding, width, height, error, match", [
    (torch.ones(20, 30), 0, 8, 8, ValueError, "masks"),
    (torch.ones(1, 0, 30), 0, 8, 8, ValueError, "masks"),
    (torch.full((1, 20, 30), float("inf")), 0, 8, 8, ValueError, "masks"),
    (torch.ones(1, 20, 30), -1, 8, 8, ValueError, "padding"),
    (torch.ones(1, 20, 30), 2.5, 8, 8, TypeError, "padding"),
    (torch.ones(1, 20, 30), 0, -8, 8, ValueError, "width"),
    (torch.ones(1, 20, 30), 0, 8, 0, ValueError, "height"),
    ([[1.0]], 0, 8, 8, TypeError, "masks"),
])
def test_crop_boxes_rejects_bad_input_by_name(masks, padding, width, height, error, match):
    with pytest.raises(error, match=match):
        crop_boxes(masks, padding, width, height)


_CROPS = torch.rand(2, 8, 8, 3)


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((_IMAGES, _CROPS, _BOXES), {}, ValueError, "exactly one"),
    ((_IMAGES, _CROPS, _BOXES), {"crop_masks": torch.ones(2, 8, 8), "full_masks": _MASKS}, ValueError, "exactly one"),
    ((_IMAGES, _CROPS[:1], _BOXES), {"full_masks": _MASKS}, ValueError, "crops has a batch of 1"),
    ((_IMAGES, _CROPS, _BOXES[:1]), {"full_masks": _MASKS}, ValueError, "boxes"),
    ((_IMAGES, torch.rand(2, 8, 8, 4), _BOXES), {"full_masks": _MASKS}, ValueError, "channels"),
    ((_IMAGES, _CROPS, _BOXES), {"crop_masks": torch.ones(2, 8, 9)}, ValueError, "crop_masks"),
    ((_IMAGES, _CROPS, _BOXES), {"crop_masks": torch.ones(1, 8, 8)}, ValueError, "crop_masks"),
    ((_IMAGES, _CROPS, _BOXES), {"full_masks": torch.ones(2, 8, 8)}, ValueError, "full_masks"),
    ((_IMAGES, _CROPS, _BOXES), {"full_masks": torch.full((2, 20, 30), float("nan"))}, ValueError, "full_masks"),
    ((_IMAGES, torch.full((2, 8, 8, 3), float("nan")), _BOXES), {"full_masks": _MASKS}, ValueError, "crops"),
    ((torch.rand(2, 20, 30), _CROPS, _BOXES), {"full_masks": _MASKS}, ValueError, "originals"),
    ((_IMAGES, _CROPS, _BOXES), {"full_masks": _MASKS.to("meta")}, ValueError, "full_masks is on meta"),
    ((_IMAGES, _CROPS.to("meta"), _BOXES), {"full_masks": _MASKS}, ValueError, "crops is on meta"),
])
def test_stitch_rejects_bad_input_by_name(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        stitch(*args, **kwargs)


# --- clamping, dtypes and errors of the shared checks -----------------------------------------------------------


def _overshooting(mask: torch.Tensor) -> torch.Tensor:
    """The mask a little outside 0-1, as a resize leaves it: 0 a hair below, 1 a little above."""
    return torch.where(mask == 0, -1e-6, mask * 1.05)


def test_crop_clamps_masks_before_resizing():
    generator = torch.Generator().manual_seed(3)
    images = torch.rand(1, 20, 30, 3, generator=generator)
    masks = torch.zeros(1, 20, 30)
    masks[:, 5:15, 8:20] = torch.rand(10, 12, generator=generator)
    masks[:, 8:12, 10:16] = 1
    boxes = [(4, 2, 24, 18)]
    over = _overshooting(masks)
    expected = crop(images, over.clamp(0, 1), boxes, 13, 8)  # a resize: unclamped, the mask would ring otherwise
    assert all(torch.equal(a, b) for a, b in zip(crop(images, over, boxes, 13, 8), expected, strict=True))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_crop_of_bool_masks_is_float32_and_of_float_masks_their_dtype(dtype):
    images, masks = torch.rand(1, 8, 8, 3).to(dtype), torch.zeros(1, 8, 8, dtype=torch.bool)
    masks[:, 2:6, 2:6] = True
    assert crop(images, masks, [(0, 0, 8, 8)], 4, 4)[1].dtype == torch.float32
    assert crop(images, masks.to(dtype), [(0, 0, 8, 8)], 4, 4)[1].dtype == dtype


@pytest.mark.parametrize("which", ["crop_masks", "full_masks"])
def test_stitch_clamps_masks_before_pasting(which):
    generator = torch.Generator().manual_seed(4)
    originals, crops = torch.rand(1, 20, 30, 3, generator=generator), torch.rand(1, 7, 9, 3, generator=generator)
    mask = torch.rand(1, *((7, 9) if which == "crop_masks" else (20, 30)), generator=generator)
    mask[mask < 0.3], mask[mask > 0.8] = 0, 1
    over = _overshooting(mask)
    expected = stitch(originals, crops, [(3, 2, 25, 17)], **{which: over.clamp(0, 1)})
    assert torch.equal(stitch(originals, crops, [(3, 2, 25, 17)], **{which: over}), expected)


@pytest.mark.parametrize("crops_dtype", [torch.float16, torch.float64])
def test_stitch_takes_crops_of_another_float_dtype_and_keeps_the_originals(crops_dtype):
    generator = torch.Generator().manual_seed(5)
    originals, crops = torch.rand(2, 20, 30, 3, generator=generator), torch.rand(2, 8, 8, 3, generator=generator)
    crops = crops.to(crops_dtype)
    masks = torch.rand(2, 8, 8, generator=generator)
    out = stitch(originals, crops, [(2, 2, 18, 18)] * 2, crop_masks=masks)
    assert out.dtype == torch.float32
    assert torch.equal(out, stitch(originals, crops.float(), [(2, 2, 18, 18)] * 2, crop_masks=masks))
    half = stitch(originals.half(), crops, [(2, 2, 18, 18)] * 2, crop_masks=masks)
    assert half.dtype == torch.float16


@pytest.mark.parametrize("kwargs, match", [
    ({"originals": torch.full((2, 20, 30, 3), float("inf"))}, "originals"),
    ({"originals": torch.rand(0, 20, 30, 3)}, "originals"),
    ({"crops": torch.rand(2, 8, 8, 3).to(torch.uint8)}, "crops"),
    ({"crop_masks": torch.ones(2, 8, 0)}, "crop_masks"),
    ({"crop_masks": torch.full((2, 8, 8), float("nan"))}, "crop_masks"),
    ({"crop_masks": None, "full_masks": torch.ones(2, 20, 30).long()}, "full_masks"),
    ({"boxes": [(0, 0, 8, 8)]}, "boxes"),
])
def test_stitch_errors_name_their_input(kwargs, match):
    args = {"originals": _IMAGES, "crops": _CROPS, "boxes": _BOXES, "crop_masks": torch.ones(2, 8, 8), **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        stitch(**args)
