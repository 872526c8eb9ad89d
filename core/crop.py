"""A1111's "inpaint only masked": crop around the mask, work at a chosen size, paste the result back."""

import torch
import torch.nn.functional as F

# A pixel belongs to the mask's box when it would not be 0 in A1111's 8-bit mask.
_IN_BOX = 0.5 / 255


def mask_box(mask: torch.Tensor, padding: int) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) around the non-zero pixels of a [H,W] mask, grown by `padding` and kept inside;
    the whole picture when the mask is empty."""
    height, width = mask.shape
    rows = torch.nonzero((mask >= _IN_BOX).any(dim=1)).flatten()
    columns = torch.nonzero((mask >= _IN_BOX).any(dim=0)).flatten()
    if rows.numel() == 0:
        return 0, 0, width, height
    x1, y1, x2, y2 = int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1
    return max(x1 - padding, 0), max(y1 - padding, 0), min(x2 + padding, width), min(y2 + padding, height)


def _grow_span(start: int, end: int, wanted: int, limit: int) -> tuple[int, int]:
    """Grow [start, end) to `wanted` (split evenly, the odd pixel after), shifted back inside [0, limit)."""
    extra = wanted - (end - start)
    start, end = start - extra // 2, end + extra - extra // 2
    if end > limit:
        start, end = start - (end - limit), limit
    if start < 0:
        start, end = 0, end - start
    return start, min(end, limit)


def expand_to_aspect(box, width: int, height: int, image_width: int, image_height: int):
    """Grow `box` along its short side to the working aspect width:height, as A1111 does."""
    x1, y1, x2, y2 = box
    aspect = width / height
    if (x2 - x1) / (y2 - y1) > aspect:
        y1, y2 = _grow_span(y1, y2, y2 - y1 + int((x2 - x1) / aspect - (y2 - y1)), image_height)
    else:
        x1, x2 = _grow_span(x1, x2, x2 - x1 + int((y2 - y1) * aspect - (x2 - x1)), image_width)
    return x1, y1, x2, y2


def crop_boxes(masks: torch.Tensor, padding: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """One box per mask of [B,H,W]: the mask's box plus padding, grown to the working aspect."""
    image_height, image_width = masks.shape[-2:]
    return [expand_to_aspect(mask_box(mask, padding), width, height, image_width, image_height) for mask in masks]


def _resize_image(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[H,W,C] -> [height,width,C], antialiased bicubic (identity at the same size)."""
    if image.shape[:2] == (height, width):
        return image
    resized = F.interpolate(image.permute(2, 0, 1)[None].float(), size=(height, width), mode="bicubic",
                            antialias=True, align_corners=False)
    return resized[0].permute(1, 2, 0).clamp(0, 1).to(image.dtype)


def _resize_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    return _resize_image(mask[..., None], height, width)[..., 0]


def crop(images: torch.Tensor, masks: torch.Tensor, boxes, width: int, height: int):
    """Cut each box out of images [B,H,W,C] and masks [B,H,W] and resize it to width x height."""
    cropped = [
        (_resize_image(image[y1:y2, x1:x2], height, width), _resize_mask(mask[y1:y2, x1:x2], height, width))
        for image, mask, (x1, y1, x2, y2) in zip(images, masks, boxes, strict=True)
    ]
    return torch.stack([c[0] for c in cropped]), torch.stack([c[1] for c in cropped])


def stitch(originals: torch.Tensor, crops: torch.Tensor, boxes, crop_masks=None, full_masks=None) -> torch.Tensor:
    """Paste crops [B,h,w,C] back into originals [B,H,W,C], each resized to its box, through a mask:
    either `crop_masks` [B,h,w] (resized to the boxes; 0 outside them) or `full_masks` [B,H,W].
    Wherever the mask is 0 the original stays exactly."""
    if (crop_masks is None) == (full_masks is None):
        raise ValueError("stitch needs exactly one of crop_masks and full_masks")
    out = []
    for i, (original, crop_image, (x1, y1, x2, y2)) in enumerate(zip(originals, crops, boxes, strict=True)):
        pasted = original.clone()
        pasted[y1:y2, x1:x2] = _resize_image(crop_image, y2 - y1, x2 - x1).to(original.dtype)
        if full_masks is not None:
            weight = full_masks[i].to(device=original.device, dtype=original.dtype)
        else:
            weight = torch.zeros(original.shape[:2], dtype=original.dtype, device=original.device)
            weight[y1:y2, x1:x2] = _resize_mask(crop_masks[i], y2 - y1, x2 - x1).to(original.dtype)
        out.append(torch.lerp(original, pasted, weight[..., None]))
    return torch.stack(out)


def uncrop(crops: torch.Tensor, boxes, height: int, width: int) -> torch.Tensor:
    """Crops [B,h,w,C] resized into their boxes on a height x width canvas of zeros: [B,height,width,C]."""
    out = torch.zeros(crops.shape[0], height, width, crops.shape[-1], dtype=crops.dtype, device=crops.device)
    for canvas, crop_image, (x1, y1, x2, y2) in zip(out, crops, boxes, strict=True):
        canvas[y1:y2, x1:x2] = _resize_image(crop_image, y2 - y1, x2 - x1)
    return out
