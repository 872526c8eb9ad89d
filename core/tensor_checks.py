"""Input checks shared by core's public functions: a clear error naming the input, masks clamped to 0-1."""

import math
import numbers

import torch

from .precision import wide_float

# How many values the value-by-value finite check looks at at once.
_FINITE_CHECK_ELEMENTS = 1 << 22
# The largest side (in pixels, or latent pixels) a size argument may ask for: ComfyUI's own largest
# resolution (its MAX_RESOLUTION), so that no picture or mask made here outgrows what a graph can hold,
# and a mistyped size is refused before it asks for terabytes.
MAX_SIZE = 16384
_AT_MOST_MAX_SIZE = f"at most MAX_SIZE = {MAX_SIZE} (ComfyUI's largest resolution)"


def check_tensor(x, name: str, allow_bool: bool = False) -> None:
    """TypeError unless `x` is a float (or, if allowed, bool) tensor; ValueError if it is empty or holds
    NaN or infinite values. `name` is how the message names the input."""
    kind = "a float or bool tensor" if allow_bool else "a float tensor"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be {kind}, got {type(x).__name__}")
    if not (x.is_floating_point() or (allow_bool and x.dtype == torch.bool)):
        raise TypeError(f"{name} must be {kind}, got {x.dtype}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if x.is_floating_point() and not all_finite(x):
        raise ValueError(f"{name} holds NaN or infinite values")


def all_finite(x: torch.Tensor) -> bool:
    """Whether a float tensor holds no NaN or infinite value. A NaN or inf makes the sum non-finite, so a
    finite sum settles it in one pass, with no copy (isfinite, or a sum in a wider type, makes a temporary
    as large as the tensor, hundreds of MiB for a video latent); a sum that overflowed from finite values
    is settled value by value, a bounded part at a time."""
    if bool(torch.isfinite(x.sum())):
        return True
    return all(bool(torch.isfinite(part).all()) for part in x.reshape(-1).split(_FINITE_CHECK_ELEMENTS))


def working_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32, or the input's type if wider: float16 and bfloat16 under- and overflow too easily."""
    return torch.promote_types(dtype, torch.float32)


def result_dtype(dtype: torch.dtype) -> torch.dtype:
    """The input's float type; float32 for a bool mask."""
    return dtype if dtype.is_floating_point else torch.float32


def unit_mask(mask, name: str, wide: bool = False) -> torch.Tensor:
    """A checked float or bool mask clamped to [0, 1], in its working type or (`wide`) the wide type: a
    resized mask overshoots by a little, and powers of values outside 0-1 turn NaN."""
    check_tensor(mask, name, allow_bool=True)
    dtype = wide_float(mask.device) if wide else working_dtype(mask.dtype)
    return mask.to(dtype).clamp(0, 1)


def _real(value, name: str) -> float:
    """`value` as a float; TypeError unless it is a real number (bool is not), ValueError if not finite."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float's range
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_range(value, name: str, low: float, high: float = math.inf, low_open: bool = False) -> float:
    """`value` as a float in [low, high] (`low_open`: (low, high]); a ValueError naming the range if not."""
    value = _real(value, name)
    if value < low or (low_open and value == low) or value > high:
        bound = (f"{'>' if low_open else '>='} {low}" if high == math.inf
                 else f"in {'(' if low_open else '['}{low}, {high}]")
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def shown(value) -> str:
    """A value for a message: its repr, cut short (an int of 400 digits is shown by its count of digits)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}... ({len(text)} characters)"


def check_count(value, name: str, minimum: int = 1, maximum: float = math.inf) -> int:
    """A whole number from `minimum` to `maximum`, as an int; TypeError or ValueError naming it if not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {shown(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {shown(value)}")
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {shown(value)}")
    return int(value)


def check_size(value, name: str, minimum: int = 1) -> int:
    """A whole number from `minimum` (a picture or latent side: 1; a padding: 0) to MAX_SIZE, as an int."""
    value = check_count(value, name, minimum)
    if value > MAX_SIZE:
        raise ValueError(f"{name} must be {_AT_MOST_MAX_SIZE}, got {shown(value)}")
    return value


def check_sides(x: torch.Tensor, name: str, count: int = 2) -> None:
    """ValueError if one of the last `count` sides of `x` is beyond MAX_SIZE (work that grows faster than the
    tensor does, as windows around each pixel, is bounded by it)."""
    if max(x.shape[-count:]) > MAX_SIZE:
        raise ValueError(f"{name} must be {_AT_MOST_MAX_SIZE} on a side, got shape {tuple(x.shape)}")


def check_layout(x, name: str, ndim: int, layout: str, device=None) -> None:
    """TypeError unless `x` is a tensor; ValueError unless it has `ndim` dimensions (`layout` spells them out
    for the message) and, if given, is on `device`. check_tensor or unit_mask checks the values after: a
    meta tensor's values cannot be read."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor {layout}, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be {layout}, got shape {tuple(x.shape)}")
    if device is not None and x.device != torch.device(device):
        raise ValueError(f"{name} is on {x.device} but the other inputs are on {device}")


def check_images(images, name: str, device=None) -> None:
    """check_layout and check_tensor for ComfyUI images [B,H,W,C]."""
    check_layout(images, name, 4, "[B,H,W,C] image", device=device)
    check_tensor(images, name)
