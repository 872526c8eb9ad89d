"""Schema helpers: io.Schema with the fields newer ComfyUIs add, passed only where the running ComfyUI has them
(0.8 has none), and the inputs several nodes share."""

import dataclasses

from comfy_api.latest import io

from ..core import PARAMETERS

_SCHEMA_FIELDS = frozenset(field.name for field in dataclasses.fields(io.Schema))
# What users type to find the pack in the node search, on every node of it.
PACK_ALIASES = ("soft inpaint", "soft inpainting", "A1111 inpaint")


def supports(field_name: str) -> bool:
    return field_name in _SCHEMA_FIELDS


def node_schema(search_aliases: tuple[str, ...] = (), has_intermediate_output: bool = False, **fields) -> io.Schema:
    """io.Schema(**fields), with the pack's and this node's search aliases where ComfyUI knows search_aliases, and
    has_intermediate_output (the node's ui output is kept and sent again when a rerun takes it from the cache)
    where ComfyUI knows it."""
    if supports("search_aliases"):
        fields["search_aliases"] = [*PACK_ALIASES, *search_aliases]
    if has_intermediate_output and supports("has_intermediate_output"):
        fields["has_intermediate_output"] = True
    return io.Schema(**fields)


def parameter_input(name: str) -> io.Float.Input:
    """A float widget for one soft-inpainting parameter, with A1111's default, range and step."""
    spec = PARAMETERS[name]
    return io.Float.Input(
        name, default=spec.default, min=spec.minimum, max=spec.maximum, step=spec.step, tooltip=spec.tooltip
    )


def noise_multiplier_input() -> io.Float.Input:
    return io.Float.Input(
        "initial_noise_multiplier", default=1.0, min=0.0, max=1.5, step=0.01, optional=True,
        tooltip="A1111's initial noise multiplier: scales the starting noise. Below 1 keeps more of the "
        "original's structure at high denoise.",
    )
