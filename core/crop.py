"""A1111's "inpaint only masked": crop around the mask, work at a chosen size, paste the result back.

The geometry follows A1111 step by step (modules/masking.py, images.resize_image, processing.uncrop); the
pixels are resized by Pillow's Lanczos on float32 planes instead of 8-bit pictures, so nothing is rounded.
"""

import operator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from .latent_mask import mask_to_8bit
from .masks import mask_batch
from .tensor_checks import check_images, check_layout, check_size, check_tensor, result_dtype, unit_mask, working_dtype

_LANCZOS = Image.Resampling.LANCZOS


@dataclass(frozen=True)
class Crops:
    """Where only-masked crops came from: the full pictures [B,H,W,C], their masks [B,H,W], a box each."""

    original: torch.Tensor
    masks: torch.Tensor
    boxes: list[tuple[int, int, int, int]]


def mask_box(mask: torch.Tensor, padding: int) -> tuple[int, int, int, int]:
    """A1111's get_crop_region_v2: (x1, y1, x2, y2) around the pixels of a [H,W] mask that are not 0 in 8
    bits, grown by `padding` and kept inside. The whole picture when the mask is empty (A1111 then falls
    back to inpainting the whole picture)."""
    levels = mask_to_8bit(mask)
    rows, columns = np.flatnonzero(levels.any(axis=1)), np.flatnonzero(levels.any(axis=0))
    height, width = levels.shape
    if rows.size == 0:
        return 0, 0, width, height
    x1, y1, x2, y2 = int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1
    return max(x1 - padding, 0), max(y1 - padding, 0), min(x2 + padding, width), min(y2 + padding, height)


def _grow(start: int, end: int, extra: int, limit: int) -> tuple[int, int]:
    """One axis of A1111's expand_crop_region: grow by `extra` (the odd pixel after), shift back inside."""
    start -= extra // 2
    end += extra - extra // 2
    if end >= limit:
        start, end = start - (end - limit), limit
    if start < 0:
        start, end = 0, end - start
    return start, min(end, limit)


def expand_to_aspect(box, width: int, height: int, image_width: int, image_height: int):
    """A1111's expand_crop_region: grow `box` along its short side to the working aspect width:height,
    with its integer arithmetic and clamping (a box that cannot reach the aspect stops at the edge)."""
    x1, y1, x2, y2 = box
    aspect = width / height
    if (x2 - x1) / (y2 - y1) > aspect:
        y1, y2 = _grow(y1, y2, int((x2 - x1) / aspect - (y2 - y1)), image_height)
    else:
        x1, x2 = _grow(x1, x2, int((y2 - y1) * aspect - (x2 - x1)), image_width)
    return x1, y1, x2, y2


def _lanczos_plane(plane: np.ndarray, width: int, height: int, box) -> np.ndarray:
    # Pillow resizes rows first, then columns; an 8-bit picture clips to 0-255 in between, and on sharp
    # content that clipping is worth tens of levels, so the two passes are run apart and clipped alike.
    rows = Image.fromarray(np.ascontiguousarray(plane)).resize((width, plane.shape[0]), _LANCZOS,
                                                               box=(box[0], 0, box[2], plane.shape[0]))
    rows = Image.fromarray(np.asarray(rows).clip(0, 1))
    return np.asarray(rows.resize((width, height), _LANCZOS, box=(0, box[1], width, box[3]))).clip(0, 1)


def _lanczos(planes: np.ndarray, width: int, height: int, box=None) -> np.ndarray:
    """Resize [H,W,C] float32 in 0-1 (the part `box` of it) to [height,width,C] with Pillow's Lanczos,
    each channel as a float image, clipped to 0-1 as the 8-bit pictures A1111 resizes are."""
    box = box or (0, 0, planes.shape[1], planes.shape[0])
    return np.stack([_lanczos_plane(planes[..., c], width, height, box) for c in range(planes.shape[-1])], axis=-1)


def _resize_and_fill(planes: np.ndarray, width: int, height: int) -> np.ndarray:
    """A1111's resize_image(2): fit inside width x height keeping the aspect, centred; the bands left over
    take Lanczos' sample of the edge rows (columns), as A1111's zero-height box resize gives."""
    h, w = planes.shape[:2]
    ratio, source_ratio = width / height, w / h
    # At least one pixel: A1111 fails on a box so flat that its fitted height rounds down to 0.
    fit_w = width if ratio < source_ratio else max(w * height // h, 1)
    fit_h = height if ratio >= source_ratio else max(h * width // w, 1)
    fitted = _lanczos(planes, fit_w, fit_h)
    top, left = height // 2 - fit_h // 2, width // 2 - fit_w // 2
    out = np.empty((height, width, planes.shape[-1]), np.float32)
    out[top:top + fit_h, left:left + fit_w] = fitted
    # A1111 pastes bands of height//2 - fit_h//2 rows at both ends, which leaves the last row black (or
    # fails on a 0-row band) when the height is odd and fit_h even; here the far band reaches the border.
    if ratio < source_ratio:
        out[:top] = _lanczos(fitted, width, 1, box=(0, 0, width, 0))
        out[top + fit_h:] = _lanczos(fitted, width, 1, box=(0, fit_h, width, fit_h))
    elif ratio > source_ratio:
        out[:, :left] = _lanczos(fitted, 1, height, box=(0, 0, 0, height))
        out[:, left + fit_w:] = _lanczos(fitted, 1, height, box=(fit_w, 0, fit_w, height))
    return out


def _crop_and_resize(planes: np.ndarray, width: int, height: int) -> np.ndarray:
    """A1111's resize_image(1): cover width x height keeping the aspect, centred, the excess cut off."""
    h, w = planes.shape[:2]
    ratio, source_ratio = width / height, w / h
    cover_w = width if ratio > source_ratio else w * height // h
    cover_h = height if ratio <= source_ratio else h * width // w
    top, left = cover_h // 2 - height // 2, cover_w // 2 - width // 2
    return _lanczos(planes, cover_w, cover_h)[top:top + height, left:left + width]


def _planes(x: torch.Tensor) -> np.ndarray:
    """Pictures or masks as float32 planes in 0-1, as A1111's 8-bit pictures hold them: clamped before the
    narrowing, where a float64 value beyond float32's range would turn inf (and Lanczos' lobes NaN)."""
    return x.detach().clamp(0, 1).to(device="cpu", dtype=torch.float32).numpy()


def _unit_masks(name: str, masks, images: torch.Tensor, size) -> torch.Tensor:
    """The masks, checked against the images, clamped to 0-1 before any resize: a resize of values outside
    0-1 is not the resize of the clamped mask."""
    check_layout(masks, name, 3, "[B,H,W] mask", device=images.device)
    if masks.shape != (images.shape[0], *size):
        raise ValueError(f"{name} must be {(images.shape[0], *size)} to match the images, got {tuple(masks.shape)}")
    return unit_mask(masks, name)


def _check_boxes(boxes, batch: int, height: int, width: int) -> list[tuple[int, int, int, int]]:
    try:
        boxes = [tuple(operator.index(v) for v in box) for box in boxes]
    except TypeError:
        raise TypeError("boxes must be a list of (x1, y1, x2, y2) whole numbers") from None
    if len(boxes) != batch:
        raise ValueError(f"boxes has {len(boxes)} boxes but the batch has {batch} pictures")
    for box in boxes:
        if len(box) != 4 or not (0 <= box[0] < box[2] <= width and 0 <= box[1] < box[3] <= height):
            raise ValueError(f"boxes: {box} is not an (x1, y1, x2, y2) box inside a {width}x{height} picture")
    return boxes


def crop_boxes(masks: torch.Tensor, padding: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """One box per mask of [B,H,W]: the mask's box plus padding, grown to the working aspect width:height."""
    check_layout(masks, "masks", 3, "[B,H,W] mask")
    check_tensor(masks, "masks", allow_bool=True)
    padding = check_size(padding, "padding", minimum=0)
    width, height = check_size(width, "width"), check_size(height, "height")
    image_height, image_width = masks.shape[1:]
    return [expand_to_aspect(mask_box(mask, padding), width, height, image_width, image_height) for mask in masks]


def crop(images: torch.Tensor, masks: torch.Tensor, boxes, width: int, height: int):
    """Cut each box out of images [B,H,W,C] and masks [B,H,W] and bring it to width x height as A1111 does
    (resize and fill: never stretched). Returns (crops [B,height,width,C], crop_masks [B,height,width]) on
    the images' device, clamped to 0-1: the crops in the images' dtype, the masks in theirs (float32 for
    bool masks). Pictures and masks are clamped to 0-1 before they are resized."""
    check_images(images, "images")
    unit = _unit_masks("masks", masks, images, images.shape[1:3])
    boxes = _check_boxes(boxes, *images.shape[:3])
    width, height = check_size(width, "width"), check_size(height, "height")
    planes = np.concatenate([_planes(images), _planes(unit)[..., None]], axis=-1)
    cropped = np.stack([_resize_and_fill(sample[y1:y2, x1:x2], width, height)
                        for sample, (x1, y1, x2, y2) in zip(planes, boxes, strict=True)])
    cropped = torch.from_numpy(cropped).to(images.device)
    return cropped[..., :-1].to(images.dtype), cropped[..., -1].to(result_dtype(masks.dtype))


def _check_stitch(originals, crops, crop_masks, full_masks) -> torch.Tensor:
    """The checked mask, crop_masks or full_masks, clamped to 0-1."""
    check_images(originals, "originals")
    check_images(crops, "crops", device=originals.device)
    if (crop_masks is None) == (full_masks is None):
        raise ValueError("stitch needs exactly one of crop_masks and full_masks")
    if crops.shape[0] != originals.shape[0]:
        raise ValueError(f"crops has a batch of {crops.shape[0]} but originals has {originals.shape[0]}")
    if crops.shape[-1] != originals.shape[-1] and (crops.shape[-1], originals.shape[-1]) != (3, 4):
        raise ValueError(f"crops has {crops.shape[-1]} channels but originals has {originals.shape[-1]}")
    if crop_masks is not None:
        return _unit_masks("crop_masks", crop_masks, crops, crops.shape[1:3])
    return _unit_masks("full_masks", full_masks, originals, originals.shape[1:3])


def stitch(originals: torch.Tensor, crops: torch.Tensor, boxes, crop_masks=None, full_masks=None) -> torch.Tensor:
    """Paste crops [B,h,w,C] back into originals [B,H,W,C] as A1111 does: each crop brought to its box by
    crop and resize, then original + m * (crop - original) with the mask m either `crop_masks` [B,h,w]
    uncropped the same way (0 outside the box) or `full_masks` [B,H,W] as it is (also 0 outside the box).
    Masks and crops are clamped to 0-1 first; crops of any float dtype are resampled in float32, the blend
    is in float32 or the originals' wider type.

    Outside the boxes and wherever m is 0 the original stays bit for bit. RGB crops into RGBA originals
    keep the originals' alpha. Returns a new tensor in the originals' dtype and device."""
    masks = _check_stitch(originals, crops, crop_masks, full_masks)
    boxes = _check_boxes(boxes, *originals.shape[:3])
    channels = crops.shape[-1]
    planes = _planes(crops)
    if crop_masks is not None:
        planes = np.concatenate([planes, _planes(masks)[..., None]], axis=-1)
    out = originals.clone()
    work = working_dtype(originals.dtype)  # float64 originals beyond float32's range stay finite
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        pasted = torch.from_numpy(_crop_and_resize(planes[i], x2 - x1, y2 - y1)).to(originals.device, work)
        weight = masks[i, y1:y2, x1:x2].to(work) if crop_masks is None else pasted[..., channels]
        original = originals[i, y1:y2, x1:x2, :channels]
        blended = torch.lerp(original.to(work), pasted[..., :channels], weight[..., None]).to(originals.dtype)
        out[i, y1:y2, x1:x2, :channels] = torch.where(weight[..., None] == 0, original, blended)
    return out


def uncrop(crops: torch.Tensor, boxes, height: int, width: int) -> torch.Tensor:
    """Crops [B,h,w,C] (0-1) brought to their boxes by A1111's crop and resize, on a height x width canvas
    of zeros, as A1111's uncrop places the generated picture and its mask: [B,height,width,C]."""
    check_images(crops, "crops")
    height, width = check_size(height, "height"), check_size(width, "width")
    boxes = _check_boxes(boxes, crops.shape[0], height, width)
    planes = _planes(crops)
    out = torch.zeros(crops.shape[0], height, width, crops.shape[-1], dtype=crops.dtype, device=crops.device)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        out[i, y1:y2, x1:x2] = torch.from_numpy(_crop_and_resize(planes[i], x2 - x1, y2 - y1)).to(out)
    return out


def crop_around_masks(image: torch.Tensor, mask, width: int, height: int, padding: int):
    """A1111's only masked for pictures [B,H,W,C] and a MASK (one for all or one per picture, at the
    pictures' size): each picture cropped around its mask plus `padding`, grown to the working aspect and
    brought to width x height. Returns (crops, crop masks, Crops for pasting back)."""
    check_images(image, "image")
    masks = mask_batch(mask, "mask", image.shape[0], "the image").expand(image.shape[0], -1, -1)
    if masks.shape[1:] != image.shape[1:3]:
        raise ValueError(f"mask is {tuple(masks.shape[1:])} but the image is {tuple(image.shape[1:3])}")
    masks = masks.to(image.device)
    boxes = crop_boxes(masks, padding, width, height)
    crops, crop_masks = crop(image, masks, boxes, width, height)
    return crops, crop_masks, Crops(image, masks, boxes)


def stitch_crops(crops: Crops, image: torch.Tensor) -> torch.Tensor:
    """Paste the worked crops `image` [B,h,w,C] back into the pictures they were cut from, through the
    masks given to the crop (A1111's plain only masked)."""
    check_images(image, "image")
    if image.shape[0] != len(crops.boxes):
        raise ValueError(f"image has a batch of {image.shape[0]} but the crop info has {len(crops.boxes)} crops")
    return stitch(crops.original, image, crops.boxes, full_masks=crops.masks)
