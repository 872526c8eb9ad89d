import math

import numpy as np
import pytest

from core import PARAMETERS, SoftInpaintSettings


def test_defaults_are_a1111s():
    settings = SoftInpaintSettings()
    values = (settings.schedule_bias, settings.preservation_strength, settings.transition_contrast_boost,
              settings.mask_influence, settings.difference_threshold, settings.difference_contrast)
    assert values == (1, 0.5, 4, 0, 0.5, 2)


def test_ranges_are_a1111s():
    ranges = {name: (spec.minimum, spec.maximum) for name, spec in PARAMETERS.items()}
    assert ranges == {
        "schedule_bias": (0, 8), "preservation_strength": (0, 8), "transition_contrast_boost": (1, 32),
        "mask_influence": (0, 1), "difference_threshold": (0, 8), "difference_contrast": (0, 8),
    }


@pytest.mark.parametrize("name", list(PARAMETERS))
@pytest.mark.parametrize("offset", ["below", "above", "nan", "inf", "text", "bool"])
def test_bad_values_name_the_parameter_and_range(name, offset):
    spec = PARAMETERS[name]
    value = {"below": spec.minimum - 0.01, "above": spec.maximum + 0.01, "nan": math.nan, "inf": math.inf,
             "text": "1", "bool": True}[offset]
    with pytest.raises(ValueError, match=rf"{name} must be .*\[{spec.minimum}, {spec.maximum}\]"):
        SoftInpaintSettings(**{name: value})


def test_bounds_are_inclusive_and_ints_become_floats():
    settings = SoftInpaintSettings(schedule_bias=0, transition_contrast_boost=32, mask_influence=1)
    assert settings.schedule_bias == 0.0 and isinstance(settings.schedule_bias, float)


def test_from_a1111_names():
    settings = SoftInpaintSettings.from_a1111({"mask_blend_power": 2, "composite_difference_contrast": 4})
    assert settings.schedule_bias == 2 and settings.difference_contrast == 4 and settings.mask_influence == 0
    with pytest.raises(ValueError, match="unknown"):
        SoftInpaintSettings.from_a1111({"mask_blur": 4})


def test_zero_strength_tooltip_says_the_whole_picture_is_regenerated():
    tooltip = PARAMETERS["preservation_strength"].tooltip
    assert "0 keeps nothing" in tooltip and "whole picture is regenerated" in tooltip and "unmasked" in tooltip


def test_numpy_numbers_are_accepted():
    settings = SoftInpaintSettings(schedule_bias=np.float32(2.0), mask_influence=np.int64(1))
    assert settings.schedule_bias == 2.0 and type(settings.schedule_bias) is float and settings.mask_influence == 1.0
