"""The six soft-inpainting parameters, their A1111 names, defaults and ranges."""

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields

from .tensor_checks import shown


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter as the UI shows it: range, step and what it does."""

    name: str
    a1111_name: str
    default: float
    minimum: float
    maximum: float
    step: float
    tooltip: str


PARAMETERS = {
    spec.name: spec
    for spec in (
        ParameterSpec(
            "schedule_bias", "mask_blend_power", 1.0, 0.0, 8.0, 0.1,
            "When the original is preserved during denoising. Below 1: more near the end "
            "(low noise); 1: in proportion to the noise level; above 1: more at the start.",
        ),
        ParameterSpec(
            "preservation_strength", "mask_blend_scale", 0.5, 0.0, 8.0, 0.05,
            "How strongly partially masked areas keep the original. Low favours new content, "
            "high favours the original. 0 keeps nothing while sampling: the whole picture is regenerated, "
            "unmasked areas too (A1111's behaviour, as any mask to the power 0 is 1).",
        ),
        ParameterSpec(
            "transition_contrast_boost", "inpaint_detail_preservation", 4.0, 1.0, 32.0, 0.5,
            "Restores contrast lost where original and new content are mixed: the blended "
            "vector's length leans towards the longer of the two. 1 is a plain linear blend.",
        ),
        ParameterSpec(
            "mask_influence", "composite_mask_influence", 0.0, 0.0, 1.0, 0.05,
            "How much the mask biases the difference threshold of the final composite. "
            "0: only what changed counts; 1: follow the mask closely.",
        ),
        ParameterSpec(
            "difference_threshold", "composite_difference_threshold", 0.5, 0.0, 8.0, 0.25,
            "How far (in latent units) a region may change before the original pixels drop "
            "below 50% opacity in the final composite.",
        ),
        ParameterSpec(
            "difference_contrast", "composite_difference_contrast", 2.0, 0.0, 8.0, 0.25,
            "How sharp the change from original to new pixels is. Low: gradual, may ghost; "
            "high: sudden.",
        ),
    )
}


def check_parameter(name: str, value: float) -> float:
    """Return `value` as a float, or raise ValueError naming the parameter and its range."""
    spec = PARAMETERS[name]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [{spec.minimum}, {spec.maximum}], got {shown(value)}")
    # Compared before it is made a float: an int beyond float's range does not convert.
    if not spec.minimum <= value <= spec.maximum:  # NaN compares False
        raise ValueError(f"{name} must be in [{spec.minimum}, {spec.maximum}], got {shown(value)}")
    return float(value)


@dataclass(frozen=True)
class SoftInpaintSettings:
    """A1111's soft-inpainting settings under descriptive names, validated on creation."""

    schedule_bias: float = PARAMETERS["schedule_bias"].default
    preservation_strength: float = PARAMETERS["preservation_strength"].default
    transition_contrast_boost: float = PARAMETERS["transition_contrast_boost"].default
    mask_influence: float = PARAMETERS["mask_influence"].default
    difference_threshold: float = PARAMETERS["difference_threshold"].default
    difference_contrast: float = PARAMETERS["difference_contrast"].default

    def __post_init__(self):
        for field in fields(self):
            object.__setattr__(self, field.name, check_parameter(field.name, getattr(self, field.name)))

    @classmethod
    def from_a1111(cls, values: dict) -> "SoftInpaintSettings":
        """Build from a dict keyed by A1111's names (mask_blend_power, ...)."""
        if not isinstance(values, Mapping):
            raise TypeError(f"from_a1111: values must be a dict of A1111 setting names and values, "
                            f"got {type(values).__name__}")
        by_a1111 = {spec.a1111_name: spec.name for spec in PARAMETERS.values()}
        unknown = set(values) - set(by_a1111)
        if unknown:
            raise ValueError(f"unknown A1111 soft-inpainting settings: {sorted(unknown)}")
        return cls(**{by_a1111[key]: value for key, value in values.items()})


def check_settings(settings, name: str = "settings") -> None:
    """TypeError unless `settings` is a SoftInpaintSettings."""
    if not isinstance(settings, SoftInpaintSettings):
        raise TypeError(f"{name} must be a SoftInpaintSettings, got {type(settings).__name__}")
