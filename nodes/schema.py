"""io.Schema with the fields newer ComfyUIs add, passed only where the running ComfyUI has them (0.8 has none)."""

import dataclasses

from comfy_api.latest import io

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
