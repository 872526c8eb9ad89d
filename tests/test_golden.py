"""Every golden case computed with A1111's original soft inpainting, checked against core."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import core

GOLDEN = np.load(Path(__file__).parent / "golden" / "soft_inpainting_golden.npz")
CASES = json.loads(bytes(GOLDEN["manifest"]))


def _array(case, key):
    return torch.from_numpy(GOLDEN[case[key]])


def _cases(kind):
    picked = [case for case in CASES if case["kind"] == kind]
    return pytest.mark.parametrize("case", picked, ids=[f"{kind}-{i}" for i in range(len(picked))])


def test_golden_file_has_every_kind():
    kinds = {case["kind"] for case in CASES}
    assert kinds == {"latent_blend", "modified_nmask", "weighted_histogram_filter", "adaptive_masks"}
    assert len(CASES) == 168


@_cases("latent_blend")
def test_latent_blend(case):
    got = core.latent_blend(_array(case, "a"), _array(case, "b"), _array(case, "t"), case["detail_preservation"])
    np.testing.assert_allclose(got.numpy(), GOLDEN[case["expected"]], rtol=1e-5, atol=2e-6)


@_cases("modified_nmask")
def test_modified_nmask(case):
    got = core.modified_nmask(_array(case, "nmask"), case["sigma"], case["mask_blend_power"], case["mask_blend_scale"])
    np.testing.assert_allclose(got.numpy(), GOLDEN[case["expected"]], rtol=1e-5, atol=1e-7)


@_cases("weighted_histogram_filter")
def test_weighted_histogram_filter(case):
    got = core.weighted_histogram_filter(
        _array(case, "img"), _array(case, "kernel"), case["kernel_center"],
        case["percentile_min"], case["percentile_max"], case["min_width"],
    )
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), GOLDEN[case["expected"]], rtol=1e-5, atol=1e-7)


@_cases("adaptive_masks")
def test_adaptive_masks(case):
    settings = core.SoftInpaintSettings.from_a1111(case["settings"])
    latent_mask = core.adaptive_latent_mask(
        _array(case, "nmask"), _array(case, "latent_orig"), _array(case, "latent_processed"), settings
    )
    np.testing.assert_allclose(latent_mask.numpy(), GOLDEN[case["expected_latent_mask"]], rtol=1e-5, atol=1e-6)

    expected_pixels = GOLDEN[case["expected_pixel_mask_uint8"]].astype(np.int16)
    pixel_mask = core.pixel_composite_mask(latent_mask, *expected_pixels.shape[1:])
    levels = np.round(pixel_mask.numpy() * 255).astype(np.int16)
    assert np.abs(levels - expected_pixels).max() <= 2
