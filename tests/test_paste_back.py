"""core.paste_back: the decoded inpainting composited over the original at the original's size, for pictures
of any size, videos of any frame count and only-masked crops."""

import pytest
import torch

from core import crop_around_masks, paste_back, pixel_composite_mask, uncrop
from core.frames import latent_frame_index
from core.paste_back import preview_sheet


def _images(frames, height, width, seed):
    return torch.rand(frames, height, width, 3, generator=torch.Generator().manual_seed(seed))


def _changed(*shape):
    """A compositing latent mask: 0 on the left half, rising to 1 on the right."""
    changed = torch.zeros(shape)
    changed[..., shape[-1] // 2:] = torch.linspace(0.2, 1, shape[-1] - shape[-1] // 2)
    return changed


def _blend(original, inpainted, mask):
    return original + mask[..., None] * (inpainted - original)


def test_a_picture_of_the_decoded_size_is_blended_by_the_pixel_mask():
    original, inpainted, changed = _images(2, 32, 40, 0), _images(2, 32, 40, 1), _changed(2, 4, 5)
    image, mask = paste_back(original, inpainted, changed)
    assert torch.equal(mask, pixel_composite_mask(changed, 32, 40))
    torch.testing.assert_close(image, _blend(original, inpainted, mask), rtol=0, atol=1e-6)
    assert torch.equal(image[mask == 0], original[mask == 0])


def test_a_picture_of_odd_size_keeps_the_border_the_encoder_cropped():
    # 38 x 45 pixels were encoded as their centred 32 x 40 (rows 3-34, columns 2-41).
    original, inpainted, changed = _images(1, 38, 45, 0), _images(1, 32, 40, 1), _changed(1, 4, 5)
    image, mask = paste_back(original, inpainted, changed)
    assert image.shape == original.shape and mask.shape == (1, 38, 45)
    centre = (slice(None), slice(3, 35), slice(2, 42))
    assert torch.equal(mask[centre], pixel_composite_mask(changed, 32, 40))
    border = torch.ones(38, 45, dtype=torch.bool)
    border[3:35, 2:42] = False
    assert torch.equal(image[:, border], original[:, border]) and not mask[:, border].any()
    torch.testing.assert_close(image[centre], _blend(original[centre], inpainted, mask[centre]), rtol=0, atol=1e-6)


def test_a_decoded_picture_of_another_size_is_a_clear_error():
    with pytest.raises(ValueError, match="original_image is 64x64 but inpainted_image is 48x48"):
        paste_back(_images(1, 64, 64, 0), _images(1, 48, 48, 1), _changed(1, 6, 6))


def test_result_is_in_the_wider_of_the_two_image_types():
    image, _ = paste_back(_images(1, 36, 32, 0).half(), _images(1, 32, 32, 1), _changed(1, 4, 4))
    assert image.dtype == torch.float32


def test_video_frames_take_their_latent_frames_mask_and_dropped_frames_stay():
    # 3 latent frames at a compression of 4 decode to 9 frames; the original had 11 (2 dropped by the encoder).
    changed = _changed(1, 3, 4, 4)
    changed[0, 1] = 0  # latent frame 1 (frames 1-4) unchanged
    original, inpainted = _images(11, 32, 32, 0), _images(9, 32, 32, 1)
    image, mask = paste_back(original, inpainted, changed, temporal_compression=4)
    assert image.shape == original.shape and mask.shape == (11, 32, 32)
    per_latent_frame = pixel_composite_mask(changed[0], 32, 32)
    assert torch.equal(mask[:9], per_latent_frame[latent_frame_index(9, 4)])
    assert torch.equal(image[1:5], original[1:5]) and not mask[1:5].any()
    assert torch.equal(image[9:], original[9:]) and not mask[9:].any()
    torch.testing.assert_close(image[:9], _blend(original[:9], inpainted, mask[:9]), rtol=0, atol=1e-6)


def test_a_batch_of_videos_is_frames_of_each_video_in_turn():
    changed = torch.stack([_changed(3, 4, 4), torch.zeros(3, 4, 4)])
    original, inpainted = _images(18, 32, 32, 0), _images(18, 32, 32, 1)
    image, mask = paste_back(original, inpainted, changed)  # compression inferred: 9 = 1 + 4 * 2
    assert mask[:9].any() and not mask[9:].any() and torch.equal(image[9:], original[9:])


@pytest.mark.parametrize("frames, message", [
    (10, "inpainted_image has 10 frames, which 1 video"),
    (8, "inpainted_image has 8 frames"),
])
def test_a_decoded_frame_count_that_is_not_the_latents_is_a_clear_error(frames, message):
    with pytest.raises(ValueError, match=message):
        paste_back(_images(frames, 8, 8, 0), _images(frames, 8, 8, 1), _changed(1, 3, 1, 1), 4)


def test_an_original_video_of_other_frames_is_a_clear_error():
    with pytest.raises(ValueError, match="original_image has 14 frames but the 9 decoded frames come from 9 to 12"):
        paste_back(_images(14, 8, 8, 0), _images(9, 8, 8, 1), _changed(1, 3, 1, 1), 4)


def test_only_masked_crops_are_pasted_back_once_through_the_compositing_mask():
    original = _images(2, 96, 80, 0)
    masks = torch.zeros(2, 96, 80)
    masks[0, 10:30, 12:40] = 1
    masks[1, 60:90, 50:70] = 1
    crops, _, where = crop_around_masks(original, masks, 32, 32, padding=8)
    inpainted, changed = _images(2, 32, 32, 1), _changed(2, 4, 4)
    image, full_mask = paste_back(original, inpainted, changed, crops=where)
    expected_mask = uncrop(pixel_composite_mask(changed, 32, 32)[..., None], where.boxes, 96, 80)[..., 0]
    assert torch.allclose(full_mask, expected_mask)
    pasted = uncrop(inpainted, where.boxes, 96, 80)
    torch.testing.assert_close(image, _blend(original, pasted, full_mask), rtol=0, atol=1e-5)
    for sample, (x1, y1, x2, y2) in enumerate(where.boxes):
        outside = torch.ones(96, 80, dtype=torch.bool)
        outside[y1:y2, x1:x2] = False
        assert torch.equal(image[sample, outside], original[sample, outside])


def test_crops_need_the_full_picture_and_a_picture_latent():
    original = _images(1, 64, 64, 0)
    _, _, where = crop_around_masks(original, torch.ones(64, 64), 32, 32, padding=0)
    with pytest.raises(ValueError, match="original_image must be the full picture given to Soft Inpaint Crop"):
        paste_back(_images(1, 32, 32, 0), _images(1, 32, 32, 1), _changed(1, 4, 4), crops=where)
    with pytest.raises(ValueError, match="crop: only masked"):
        paste_back(original, _images(9, 32, 32, 1), _changed(1, 3, 4, 4), crops=where)


@pytest.mark.parametrize("changed, message", [
    (torch.zeros(4, 4), r"changed must be \[B,h,w\] or a video's \[B,T,h,w\]"),
    (torch.full((1, 4, 4), float("nan")), "changed holds NaN"),
])
def test_bad_changed_masks_are_clear_errors(changed, message):
    with pytest.raises(ValueError, match=message):
        paste_back(_images(1, 32, 32, 0), _images(1, 32, 32, 1), changed)


def test_a_videos_preview_is_one_sheet_of_evenly_spaced_frames():
    frames = torch.arange(9.0)[:, None, None].expand(9, 2, 3)
    sheet = preview_sheet(frames)
    assert sheet.shape == (1, 2, 12)
    assert sheet[0, 0, ::3].tolist() == [0.0, 3.0, 5.0, 8.0]  # frames 0, 2.67, 5.33, 8 rounded
    assert torch.equal(preview_sheet(frames[:2]), torch.cat([frames[0], frames[1]], dim=-1)[None])
