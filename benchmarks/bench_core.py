"""Core speed as ratios against baselines timed in the same run, so that the machine's speed cancels out.

    python benchmarks/bench_core.py [--threads N]

1. The video adaptive mask (batch 1, 16 channels, 21 latent frames of 60x104: an 81-frame 832x480 Wan
   video) against a plain per-pixel Python loop: both filter passes by tests/reference_filter.py plus the
   same vectorised remainder. The loop is timed on a few frames and extrapolated per frame. Goal: at least 80x.
2. The whole 1024x1024 pixel compositing mask (adaptive_latent_mask on a 128x128 latent, then
   pixel_composite_mask) against its unavoidable Pillow part alone: the Lanczos resize to 1024x1024 and
   the Gaussian blur of radius 4. Goal: at most 2x.
Also, per latent size, the vectorised filter passes against the per-pixel reference. Timings alternate
between what is compared and the best of several rounds counts, as other work on the machine only
ever slows a run down. torch runs on one thread unless --threads says otherwise: Pillow and the Python
loop use one core, and on a busy machine torch's threads wait on each other for milliseconds an op.
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

# The pack's core as a top-level package, as the tests import it: not with the repository root on
# sys.path, where the pack's nodes/ would shadow ComfyUI's nodes module.
import conftest  # noqa: E402, F401
from reference_filter import reference_filter  # noqa: E402

import core  # noqa: E402
from core.adaptive_mask import _FILTER_PASSES, _KERNEL, _KERNEL_CENTER, _PIXEL_MASK_BLUR_RADIUS  # noqa: E402

SIZES = [(64, 64), (128, 128), (128, 192)]
VIDEO = (1, 16, 21, 60, 104)  # [B,C,T,h,w]
VIDEO_FRAMES_TIMED = 2
VIDEO_GOAL, PIXEL_GOAL = 80.0, 2.0


def best_of(rounds, *functions):
    """The best time of each function over `rounds` rounds, the functions taking turns."""
    times = [[] for _ in functions]
    for _ in range(rounds):
        for spent, function in zip(times, functions, strict=True):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def reference_passes(distance):
    kernel = _KERNEL.numpy()
    for band in _FILTER_PASSES:
        distance = np.array(reference_filter(distance, kernel, _KERNEL_CENTER, *band), dtype=np.float32)
    return distance


def vectorised_passes(distance):
    for band in _FILTER_PASSES:
        distance = core.weighted_histogram_filter(distance, _KERNEL, _KERNEL_CENTER, *band)
    return distance


def inputs(shape):
    generator = torch.Generator().manual_seed(0)
    orig = torch.randn(shape, generator=generator)
    changed = torch.rand((shape[0], 1, *shape[2:]), generator=generator) > 0.5
    processed = orig + torch.randn(shape, generator=generator) * changed
    nmask = torch.rand((shape[0], 1, *shape[2:]), generator=generator)
    return nmask, orig, processed


def distance_of(orig, processed):
    return torch.linalg.vector_norm(processed - orig, dim=1).reshape(-1, *orig.shape[-2:])


def filter_table(settings):
    print(f"{'latent':>9} | {'reference passes':>16} | {'vectorised passes':>17} | {'ratio':>6}")
    for height, width in SIZES:
        _, orig, processed = inputs((1, 4, height, width))
        distance = distance_of(orig, processed)
        reference, = best_of(1, lambda d=distance: reference_passes(d[0].numpy()))
        vectorised, = best_of(10, lambda d=distance: vectorised_passes(d))
        print(f"{height:>4}x{width:<4} | {reference * 1e3:>13.1f} ms | {vectorised * 1e3:>14.2f} ms | "
              f"{reference / vectorised:>5.0f}x")


def video_ratio(settings):
    nmask, orig, processed = inputs(VIDEO)
    frames = distance_of(orig, processed)
    whole, passes = best_of(10, lambda: core.adaptive_latent_mask(nmask, orig, processed, settings),
                            lambda: vectorised_passes(frames))
    reference, = best_of(1, lambda: [reference_passes(frame.numpy()) for frame in frames[:VIDEO_FRAMES_TIMED]])
    reference *= len(frames) / VIDEO_FRAMES_TIMED
    baseline = reference + max(0.0, whole - passes)  # the per-pixel passes plus the same vectorised rest
    ratio = baseline / whole
    print(f"video adaptive mask {list(VIDEO)}: {whole * 1e3:.1f} ms; per-pixel baseline {baseline:.2f} s "
          f"(its loop timed on {VIDEO_FRAMES_TIMED} of {len(frames)} frames, extrapolated per frame): "
          f"{ratio:.0f}x, goal {VIDEO_GOAL:.0f}x: {'met' if ratio >= VIDEO_GOAL else 'NOT met'}")
    return ratio


def pixel_ratio(settings):
    nmask, orig, processed = inputs((1, 4, 128, 128))
    latent_mask = core.adaptive_latent_mask(nmask, orig, processed, settings)
    levels = (latent_mask[0] * 255).clamp(0, 255).to(torch.uint8).numpy()
    blur = ImageFilter.GaussianBlur(radius=_PIXEL_MASK_BLUR_RADIUS)

    def pillow_part():
        return Image.fromarray(levels).resize((1024, 1024), Image.LANCZOS).filter(blur)

    def whole_pixel_mask():
        return core.pixel_composite_mask(core.adaptive_latent_mask(nmask, orig, processed, settings), 1024, 1024)

    pillow, whole = best_of(60, pillow_part, whole_pixel_mask)
    ratio = whole / pillow
    print(f"whole pixel compositing mask, 1024x1024 image: {whole * 1e3:.1f} ms; its Pillow part alone "
          f"(Lanczos resize, blur radius {_PIXEL_MASK_BLUR_RADIUS}) {pillow * 1e3:.1f} ms: {ratio:.2f}x, "
          f"goal at most {PIXEL_GOAL}x: {'met' if ratio <= PIXEL_GOAL else 'NOT met'}")
    return ratio


def memory_added(latent_frames):
    """MiB the video adaptive mask adds to the process's peak memory beyond its inputs (run in a fresh process,
    so that the peak is this call's)."""
    shape = (1, 16, latent_frames, *VIDEO[-2:])
    # Made in place, with no temporaries, so that the peak so far is the inputs themselves.
    orig, processed, nmask = torch.empty(shape).normal_(), torch.empty(shape).normal_(), torch.rand(1, *shape[2:])
    # What is resident now: the process's peak so far may be higher (torch's import), and would hide the call's.
    before = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 1024
    core.adaptive_latent_mask(nmask, orig, processed, core.SoftInpaintSettings())
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def video_memory():
    """The video mask's peak memory beyond its inputs, for Wan's 81 frames and four times as many: chunks bound
    the window work space, so it grows only with the per-frame maps (frames x h x w), well below the inputs."""
    for latent_frames in (VIDEO[2], 4 * VIDEO[2]):
        probe = subprocess.run([sys.executable, __file__, "--memory-probe", str(latent_frames)],
                               capture_output=True, text=True, check=True)
        inputs_mib = (2 * 16 + 1) * latent_frames * VIDEO[-2] * VIDEO[-1] * 4 / 2**20
        print(f"video adaptive mask of {latent_frames} latent frames: peak memory {float(probe.stdout):.0f} MiB "
              f"beyond its inputs ({inputs_mib:.0f} MiB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--memory-probe", type=int, metavar="LATENT_FRAMES", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(max(1, args.threads))
    if args.memory_probe:
        return print(memory_added(args.memory_probe))
    settings = core.SoftInpaintSettings()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    filter_table(settings)
    video_ratio(settings)
    video_memory()
    pixel_ratio(settings)


if __name__ == "__main__":
    main()
