"""Inpaint only masked: crop boxes, crop, stitch."""

import pytest
import torch

from core.crop import crop, crop_boxes, expand_to_aspect, mask_box, stitch


def _mask(height, width, box):
    mask = torch.zeros(height, width)
    x1, y1, x2, y2 = box
    mask[y1:y2, x1:x2] = 1.0
    return mask


def test_mask_box_with_padding_stays_inside():
    mask = _mask(100, 120, (30, 40, 50, 45))
    assert mask_box(mask, 0) == (30, 40, 50, 45)
    assert mask_box(mask, 32) == (0, 8, 82, 77)
    assert mask_box(torch.zeros(10, 20), 4) == (0, 0, 20, 10)
    faint = torch.zeros(10, 10)
    faint[3, 4] = 0.1 / 255  # 0 in an 8-bit mask: outside the box
    faint[5, 6] = 1.0 / 255
    assert mask_box(faint, 0) == (6, 5, 7, 6)


@pytest.mark.parametrize("box, size, image, expected", [
    ((30, 40, 50, 45), (64, 64), (120, 100), (30, 33, 50, 53)),     # wide box grows in height, odd pixel after
    ((30, 40, 35, 80), (64, 32), (120, 100), (0, 40, 80, 80)),      # narrow box grows in width, pushed inside
    ((100, 0, 120, 10), (32, 32), (120, 100), (100, 0, 120, 20)),   # at the corner: shifted back inside
    ((10, 10, 30, 30), (64, 64), (120, 100), (10, 10, 30, 30)),     # already the aspect
])
def test_expand_to_aspect(box, size, image, expected):
    assert expand_to_aspect(box, *size, *image) == expected


def test_boxes_reach_the_working_aspect():
    masks = torch.stack([_mask(100, 120, (30, 40, 50, 45)), _mask(100, 120, (5, 5, 20, 60))])
    boxes = crop_boxes(masks, 8, 64, 48)
    for x1, y1, x2, y2 in boxes:
        assert abs((x2 - x1) / (y2 - y1) - 64 / 48) < 0.05
        assert 0 <= x1 < x2 <= 120 and 0 <= y1 < y2 <= 100
    # A box that cannot reach the aspect inside the picture stops at its edge.
    tall = crop_boxes(_mask(100, 120, (5, 5, 20, 90))[None], 8, 64, 48)
    assert tall == [(0, 0, 120, 98)]


def test_crop_then_stitch_identity_is_exact_where_the_mask_is_zero():
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 100), torch.linspace(0, 1, 120), indexing="ij")
    images = torch.stack([torch.stack([ys, xs, (ys + xs) / 2], dim=-1), torch.stack([xs, ys, 1 - xs], dim=-1)])
    masks = torch.stack([_mask(100, 120, (30, 40, 50, 45)), _mask(100, 120, (60, 10, 100, 30))])
    boxes = crop_boxes(masks, 16, 64, 64)
    assert boxes[0] != boxes[1]  # each sample has its own box
    crops, crop_masks = crop(images, masks, boxes, 64, 64)
    assert crops.shape == (2, 64, 64, 3) and crop_masks.shape == (2, 64, 64)
    # An identity inpaint whose compositing mask kept the original everywhere gives the input back exactly.
    assert torch.equal(stitch(images, crops, boxes, crop_masks=torch.zeros_like(crop_masks)), images)
    stitched = stitch(images, crops, boxes, crop_masks=crop_masks)
    with_full_masks = stitch(images, crops, boxes, full_masks=masks)
    assert torch.equal(with_full_masks[masks == 0], images[masks == 0])
    outside = torch.stack([_mask(100, 120, box) for box in boxes]) == 0
    assert torch.equal(stitched[outside], images[outside])
    # Inside the mask the crop comes back through two resamplings: close, not exact.
    assert (stitched - images).abs().max() < 0.02


def test_crop_at_the_working_size_round_trips_exactly():
    images = torch.rand(1, 64, 64, 3)
    masks = _mask(64, 64, (0, 0, 64, 64))[None]
    boxes = crop_boxes(masks, 0, 32, 32)
    assert boxes == [(0, 0, 64, 64)]
    crops, crop_masks = crop(images, masks, boxes, 64, 64)
    assert torch.equal(stitch(images, crops, boxes, crop_masks=crop_masks), images)


def test_stitch_pastes_new_content_through_the_mask():
    images = torch.zeros(1, 40, 40, 3)
    masks = _mask(40, 40, (10, 10, 30, 30))[None]
    boxes = crop_boxes(masks, 0, 20, 20)
    new = torch.ones(1, 20, 20, 3)
    out = stitch(images, new, boxes, crop_masks=torch.ones(1, 20, 20))
    assert torch.equal(stitch(images, new, boxes, full_masks=masks), out)
    with pytest.raises(ValueError, match="exactly one"):
        stitch(images, new, boxes)
    assert torch.equal(out[0, 10:30, 10:30], torch.ones(20, 20, 3))
    assert out.sum() == 20 * 20 * 3
