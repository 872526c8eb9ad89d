"""A1111's "inpaint only masked" steps on 8-bit Pillow pictures, written out plainly from A1111's
modules/masking.py, modules/images.py (resize_image, upscaler None) and modules/processing.py (uncrop).
The tests compare core/crop.py against these."""

from PIL import Image

LANCZOS = Image.Resampling.LANCZOS


def resize(im: Image.Image, size, box=None) -> Image.Image:
    """`im.resize(size, LANCZOS, box)` as Pillow 9.5.0 (the version A1111 pins) computes it: the rows
    first, then the columns, the 8-bit picture clipped and rounded in between. Newer Pillow builds may
    run the columns first when that is cheaper, which moves sharp content by many levels; the two passes
    are spelled out so the reference does not depend on the installed Pillow."""
    box = box or (0, 0, *im.size)
    rows = im.resize((size[0], im.height), LANCZOS, box=(box[0], 0, box[2], im.height))
    return rows.resize(size, LANCZOS, box=(0, box[1], size[0], box[3]))


def get_crop_region_v2(mask: Image.Image, pad: int):
    box = mask.getbbox()
    if not box:
        return None
    x1, y1, x2, y2 = box
    return max(x1 - pad, 0), max(y1 - pad, 0), min(x2 + pad, mask.size[0]), min(y2 + pad, mask.size[1])


def expand_crop_region(crop_region, processing_width, processing_height, image_width, image_height):
    x1, y1, x2, y2 = crop_region
    ratio_crop_region = (x2 - x1) / (y2 - y1)
    ratio_processing = processing_width / processing_height
    if ratio_crop_region > ratio_processing:
        desired_height = (x2 - x1) / ratio_processing
        desired_height_diff = int(desired_height - (y2 - y1))
        y1 -= desired_height_diff // 2
        y2 += desired_height_diff - desired_height_diff // 2
        if y2 >= image_height:
            diff = y2 - image_height
            y2 -= diff
            y1 -= diff
        if y1 < 0:
            y2 -= y1
            y1 -= y1
        if y2 >= image_height:
            y2 = image_height
    else:
        desired_width = (y2 - y1) * ratio_processing
        desired_width_diff = int(desired_width - (x2 - x1))
        x1 -= desired_width_diff // 2
        x2 += desired_width_diff - desired_width_diff // 2
        if x2 >= image_width:
            diff = x2 - image_width
            x2 -= diff
            x1 -= diff
        if x1 < 0:
            x2 -= x1
            x1 -= x1
        if x2 >= image_width:
            x2 = image_width
    return x1, y1, x2, y2


def resize_image(resize_mode, im, width, height):
    if resize_mode == 0:
        return resize(im, (width, height))
    ratio = width / height
    src_ratio = im.width / im.height
    if resize_mode == 1:
        src_w = width if ratio > src_ratio else im.width * height // im.height
        src_h = height if ratio <= src_ratio else im.height * width // im.width
        resized = resize(im, (src_w, src_h))
        res = Image.new("RGB", (width, height))
        res.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
        return res
    src_w = width if ratio < src_ratio else im.width * height // im.height
    src_h = height if ratio >= src_ratio else im.height * width // im.width
    resized = resize(im, (src_w, src_h))
    res = Image.new("RGB", (width, height))
    res.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
    if ratio < src_ratio:
        fill_height = height // 2 - src_h // 2
        res.paste(resize(resized, (width, fill_height), box=(0, 0, width, 0)), box=(0, 0))
        res.paste(resize(resized, (width, fill_height), box=(0, resized.height, width, resized.height)),
                  box=(0, fill_height + src_h))
    elif ratio > src_ratio:
        fill_width = width // 2 - src_w // 2
        res.paste(resize(resized, (fill_width, height), box=(0, 0, 0, height)), box=(0, 0))
        res.paste(resize(resized, (fill_width, height), box=(resized.width, 0, resized.width, height)),
                  box=(fill_width + src_w, 0))
    return res


def uncrop(image, dest_size, paste_loc):
    x, y, w, h = paste_loc
    base_image = Image.new("RGBA", dest_size)
    image = resize_image(1, image, w, h)
    base_image.paste(image, (x, y))
    return base_image


def only_masked_inputs(image: Image.Image, mask: Image.Image, pad: int, width: int, height: int):
    """StableDiffusionProcessingImg2Img.init with inpaint_full_res: (crop_region, paste_to, the working-size
    picture the model sees, the working-size mask)."""
    crop_region = get_crop_region_v2(mask, pad)
    crop_region = expand_crop_region(crop_region, width, height, mask.width, mask.height)
    x1, y1, x2, y2 = crop_region
    working_mask = resize_image(2, mask.crop(crop_region), width, height)
    working_image = resize_image(2, image.crop(crop_region), width, height)
    return crop_region, (x1, y1, x2 - x1, y2 - y1), working_image, working_mask
