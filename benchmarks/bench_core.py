"""Core speed against a plain per-pixel Python baseline measured in the same run.

    python benchmarks/bench_core.py

For each latent size: the vectorised filter against the per-pixel reference (both passes), and the
whole adaptive latent mask against the same reference passes plus the vectorised remainder. Last, the
whole pixel compositing mask for a 1024x1024 image (a 128x128 latent).
"""

import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reference_filter import reference_filter  # noqa: E402

import core  # noqa: E402
from core.adaptive_mask import _FILTER_PASSES, _KERNEL, _KERNEL_CENTER  # noqa: E402

SIZES = [(64, 64), (128, 128), (128, 192)]


def best_of(function, repeats, *args):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def reference_passes(distance):
    kernel = _KERNEL.numpy()
    for low, high in _FILTER_PASSES:
        distance = np.array(reference_filter(distance, kernel, _KERNEL_CENTER, low, high, 1.0), dtype=np.float32)
    return distance


def vectorised_passes(distance):
    for low, high in _FILTER_PASSES:
        distance = core.weighted_histogram_filter(distance, _KERNEL, _KERNEL_CENTER, low, high, 1.0)
    return distance


def inputs(height, width):
    generator = torch.Generator().manual_seed(0)
    orig = torch.randn(1, 4, height, width, generator=generator)
    processed = orig + torch.randn(1, 4, height, width, generator=generator) * (torch.rand(1, 1, height, width) > 0.5)
    nmask = torch.rand(1, 1, height, width, generator=generator)
    return nmask, orig, processed


def main():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    settings = core.SoftInpaintSettings()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'latent':>9} | {'reference passes':>16} | {'vectorised passes':>17} | {'ratio':>6} | "
          f"{'adaptive mask':>13} | {'ratio':>6}")
    for height, width in SIZES:
        nmask, orig, processed = inputs(height, width)
        distance = torch.linalg.vector_norm(processed - orig, dim=1)[0]
        reference = best_of(reference_passes, 1, distance.numpy())
        vectorised = best_of(vectorised_passes, 5, distance)
        whole = best_of(core.adaptive_latent_mask, 5, nmask, orig, processed, settings)
        # The baseline for the whole mask: the per-pixel passes plus the same vectorised remainder.
        baseline_whole = reference + max(0.0, whole - vectorised)
        print(f"{height:>4}x{width:<4} | {reference * 1e3:>13.1f} ms | {vectorised * 1e3:>14.2f} ms | "
              f"{reference / vectorised:>5.0f}x | {whole * 1e3:>10.2f} ms | {baseline_whole / whole:>5.0f}x")

    nmask, orig, processed = inputs(128, 128)
    def whole_pixel_mask():
        return core.pixel_composite_mask(core.adaptive_latent_mask(nmask, orig, processed, settings), 1024, 1024)

    pixel = best_of(whole_pixel_mask, 10)
    print(f"whole pixel compositing mask, 1024x1024 image: {pixel * 1e3:.1f} ms (target: under 50 ms)")


if __name__ == "__main__":
    main()
