"""The fuzz tests' random inputs, drawn as a careful user and a hostile caller would give them, and how a
call's outcome is classified.

Tensors come in every float dtype and in the wrong ones (int, complex, bool where floats are wanted), or
not as tensors at all; laid out contiguous, transposed, channels-last, strided, expanded or requiring grad;
holding ordinary values, zeros, 6e4, the dtype's largest, 1e-30, subnormals, NaN, inf, or nothing.
Numbers reach from 1e-320 to 10**400, NaN and inf, and come as the wrong types. A Draw records which inputs
it drew bad: `invalid` ones must be refused, `suspects` (NaN, inf, values that may overflow) may be, and
a refusal must name one of them.
"""

import math
import random
import re

import torch

from core.tensor_checks import MAX_SIZE

FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
WRONG_DTYPES = (torch.int64, torch.uint8, torch.complex64)

RIGHT, CLEAR, UNCLEAR, SILENT = "right", "clear error", "unclear error", "silent"
OUTCOMES = (RIGHT, CLEAR, UNCLEAR, SILENT)

# How a tensor's values are drawn (the weights by repetition).
VALUE_KINDS = ("normal",) * 8 + ("zeros", "huge", "largest", "tiny", "subnormal", "nan", "inf", "empty")
MASK_KINDS = ("soft",) * 4 + ("zeros", "ones", "overshoot", "hair", "bool", "tiny", "nan", "inf", "empty")
LAYOUTS = ("contiguous",) * 5 + ("transposed", "channels_last", "strided", "expanded", "grad")
# Numbers that are no number, or not a plain real one.
NOT_NUMBERS = (None, "1", [1.0], True, 1j, {"value": 1})
NOT_SIZES = (None, "8", 8.0, 2.5, True, [8], -1, 0)


class Draw:
    """One case's random choices, and which inputs were drawn bad."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.suspects = set()
        self.invalid = set()
        self.overshooting = set()  # masks a little outside 0-1: the result must be that of the clamped mask
        self.laid_out = set()  # tensors in a layout other than contiguous: the result must not depend on it
        self.notes = []

    def bad(self, *names, invalid=True):
        (self.invalid if invalid else self.suspects).update(names)

    def choice(self, options):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def side(self) -> int:
        return self.choice((1, 1, 2, 3, 5, 7, 8, 13))

    def note(self, text: str) -> None:
        self.notes.append(text)

    # --- tensors ---------------------------------------------------------------------------------------

    def values(self, name, shape, dtype=None, huge_may_fail=False, optional=False):
        """A float tensor of any dtype and layout; `huge_may_fail`: values near the dtype's largest may
        overflow what the function computes (then it may refuse them, naming them). `optional`: None is
        a valid value, not a wrong one."""
        if self.chance(0.04):
            return self._wrong(name, shape, optional)
        dtype = dtype or self.choice(FLOATS)
        kind = self.choice(VALUE_KINDS)
        if kind == "empty":
            return self._finish(name, kind, torch.zeros(self._empty(shape), dtype=dtype))
        x = torch.randn(shape, generator=self.generator, dtype=torch.float64)
        largest = torch.finfo(dtype).max
        x = {"zeros": x * 0, "huge": x.sign() * min(6e4, largest), "largest": x.sign() * largest,
             "tiny": x * 1e-30, "subnormal": x * torch.finfo(dtype).tiny / 4}.get(kind, x)
        if kind in ("nan", "inf"):
            x.reshape(-1)[self.rng.randrange(x.numel())] = math.nan if kind == "nan" else -math.inf
        if kind in ("huge", "largest") and huge_may_fail:
            self.bad(name, invalid=False)
        return self._finish(name, kind, x.to(dtype))

    def pixels(self, name, shape, dtype=None, huge_may_fail=False):
        """A picture in 0-1 (sometimes one colour), or one of the other value kinds (as values())."""
        if self.chance(0.5):
            dtype = dtype or self.choice(FLOATS)
            if self.chance(0.2):
                colour = torch.rand(shape[-1], generator=self.generator)
                return self._finish(name, "uniform", colour.expand(shape).to(dtype).contiguous())
            return self._finish(name, "picture", torch.rand(shape, generator=self.generator).to(dtype))
        return self.values(name, shape, dtype, huge_may_fail)

    def mask(self, name, shape, optional=False):
        """A mask of any float dtype or bool, 0-1 give or take what a resize does (`optional`: as values)."""
        if self.chance(0.04):
            return self._wrong(name, shape, optional)
        kind = self.choice(MASK_KINDS)
        dtype = torch.bool if kind == "bool" else self.choice(FLOATS)
        if kind == "empty":
            return self._finish(name, kind, torch.zeros(self._empty(shape), dtype=dtype))
        soft = torch.rand(shape, generator=self.generator, dtype=torch.float64)
        x = {
            "zeros": soft * 0,
            "ones": soft * 0 + 1,
            "overshoot": soft * 1.09 - 0.04,  # a bicubic upscale's range
            "hair": torch.where(soft < 0.5, -1e-6, 1 + 1e-6),
            "bool": soft > 0.5,
            "tiny": soft * 1e-30,
        }.get(kind, soft)
        if kind in ("nan", "inf"):
            x.reshape(-1)[self.rng.randrange(x.numel())] = math.nan if kind == "nan" else math.inf
        if kind in ("overshoot", "hair"):
            self.overshooting.add(name)
        return self._finish(name, kind, x.to(dtype))

    def _empty(self, shape):
        shape = list(shape)
        shape[self.rng.randrange(len(shape))] = 0
        return shape

    def _wrong(self, name, shape, optional=False):
        """A tensor of a wrong dtype, or no tensor at all: always refused."""
        self.bad(name)
        kind = self.choice(("dtype", "dtype", "list", "number", "text", *(() if optional else ("none",))))
        if kind == "dtype":
            wrong = torch.randint(0, 2, shape, generator=self.generator).to(self.choice(WRONG_DTYPES))
            return self._finish(name, "wrong dtype", wrong)
        value = {"list": torch.rand(shape, generator=self.generator).tolist(), "number": 0.5, "none": None,
                 "text": "mask"}[kind]
        self.note(f"{name}={kind}")
        return value

    def _finish(self, name, kind, x):
        if kind in ("nan", "inf", "empty"):
            self.bad(name, invalid=kind == "empty")
        x = self._layout(name, x)
        self.note(f"{name}={kind} {str(x.dtype)[6:]} {tuple(x.shape)}")
        return x

    def _layout(self, name, x):
        """The same values in another layout (an expanded tensor repeats its first sample)."""
        layout = self.choice(LAYOUTS)
        if layout == "contiguous" or x.ndim < 2 or x.numel() == 0:
            return x
        if layout == "transposed":
            x = x.transpose(-1, -2).contiguous().transpose(-1, -2)
        elif layout == "channels_last" and x.ndim in (4, 5):
            x = x.contiguous(memory_format=torch.channels_last if x.ndim == 4 else torch.channels_last_3d)
        elif layout == "channels_last":  # no such format: every axis reversed in memory instead
            order = tuple(reversed(range(x.ndim)))
            x = x.permute(order).contiguous().permute(order)
        elif layout == "strided":
            spread = torch.zeros(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype)
            spread[..., ::2] = x
            x = spread[..., ::2]
        elif layout == "expanded" and x.shape[0] > 1:
            x = x[:1].expand_as(x)
        elif layout == "grad" and x.is_floating_point():
            x = x.clone().requires_grad_(True)
        else:
            return x
        self.laid_out.add(name)
        self.note(f"{name} {layout}")
        return x

    # --- numbers ---------------------------------------------------------------------------------------

    def number(self, name, good, bad=(), p_bad=0.15):
        """One of the `good` values (the range's ends among them) or, sometimes, a `bad` one."""
        if bad and self.chance(p_bad):
            self.bad(name)
            value = self.choice(bad)
        else:
            value = self.choice(good)
        self.note(f"{name}={value!r:.40}")
        return value

    def size(self, name, good=(1, 2, 3, 7, 13, 64), p_bad=0.15):
        """A picture side: one of `good`, or a bad one: 0, negative, past the bound, no whole number."""
        return self.number(name, good, (*NOT_SIZES, MAX_SIZE + 1, 2**31, 10**400), p_bad)

    def sizes(self, names, good=(1, 2, 3, 7, 13, 64), limit=MAX_SIZE):
        """size() for each of `names`; sometimes one of them at `limit` (the largest allowed), the others
        then small, so that the case stays quick."""
        at_limit = self.choice(names) if limit and self.chance(0.04) else None
        small = tuple(value for value in good if value <= 13)
        return tuple(self.size(name, (limit,) if name == at_limit else small if at_limit else good)
                     for name in names)


# --- outcomes ----------------------------------------------------------------------------------------


class Wrong(Exception):
    """A result that breaks the formula or an invariant."""


def require(condition, message: str) -> None:
    if not condition:
        raise Wrong(message)


def names(message: str, name: str) -> bool:
    """Whether an error message names the input: quoted when the name is a single letter or two."""
    pattern = rf"'{re.escape(name)}'" if len(name) <= 2 else rf"(?<![\w]){re.escape(name)}(?![\w])"
    return re.search(pattern, message) is not None


def same(before, after) -> bool:
    """The same tensor, NaN for NaN."""
    if before.dtype != after.dtype or before.shape != after.shape:
        return False
    return bool(((before == after) | (before.isnan() & after.isnan()) if before.is_floating_point()
                 else before == after).all())


def classify(d: Draw, run, check, tensors) -> tuple[str, str]:
    """Run `run()` for a case drawn by `d` and `check` its result (which raises Wrong); `tensors` (by name)
    must come out unmodified. Returns the outcome and what to report of it."""
    before = {name: tensor.detach().clone() for name, tensor in tensors.items()}
    try:
        result = run()
    except (ValueError, TypeError) as error:
        named = d.suspects | d.invalid
        if any(names(str(error), name) for name in named):
            outcome, text = CLEAR, str(error)
        else:
            outcome, text = UNCLEAR, f"{type(error).__name__} naming none of {sorted(named)}: {error}"
    except Exception as error:
        outcome, text = UNCLEAR, f"{type(error).__name__}: {error}"
    else:
        if d.invalid:
            outcome, text = SILENT, f"accepted the invalid {sorted(d.invalid)}"
        else:
            try:
                check(result)
                outcome, text = RIGHT, ""
            except Wrong as error:
                outcome, text = SILENT, str(error)
    changed = [name for name, tensor in tensors.items() if not same(before[name], tensor.detach())]
    if changed:
        outcome, text = SILENT, f"modified {changed} in place"
    return outcome, text


def print_counts(request, title: str, counts: dict) -> dict:
    """Print the outcomes by class, in all and per function or node (`counts`: name -> outcome -> count),
    past pytest's output capture (the counts are quoted in reports). Returns the totals by class."""
    totals = {outcome: sum(by_class.get(outcome, 0) for by_class in counts.values()) for outcome in OUTCOMES}
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\n{title}: {sum(totals.values())} over {len(counts)}: "
              + ", ".join(f"{outcome} {count}" for outcome, count in totals.items()))
        for name, by_class in counts.items():
            print(f"  {name}: " + ", ".join(f"{outcome} {by_class.get(outcome, 0)}" for outcome in OUTCOMES))
    return totals
