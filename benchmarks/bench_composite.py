"""The Adaptive Difference Composite against ComfyUI's ImageCompositeMasked on a Wan-sized video, in one run.

    COMFYUI_PATH=~/ComfyUI ~/ComfyUI/venv/bin/python benchmarks/bench_composite.py

81 frames of 480x832 (21 latent frames of 60x104, Wan 2.1's latent format). The soft composite does what a
user waits for after decoding: the adaptive mask from the two latents, its pixel mask per frame, the
composite and the node's preview. The baseline is ComfyUI's own masked composite of the same frames through
a mask of the same size. Runs alternate so that drift in machine speed hits both; prints medians and the
ratio (issue 15's aim: at most 1.2).
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_sampler import ROOT, load_comfyui

FRAMES, LATENT_FRAMES, HEIGHT, WIDTH = 81, 21, 480, 832
ROUNDS = 5
GOAL = 1.2


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main():
    nodes = load_comfyui()
    import comfy.sd
    import torch
    from comfy_extras.nodes_mask import ImageCompositeMasked

    sys.path.insert(0, str(ROOT / "tests" / "comfyui"))
    from tiny_checkpoint import build_tiny_wan_model

    with tempfile.TemporaryDirectory() as directory:
        model = comfy.sd.load_diffusion_model(str(build_tiny_wan_model(Path(directory) / "wan.safetensors")))
    generator = torch.Generator().manual_seed(0)
    original_latent = torch.randn(1, 16, LATENT_FRAMES, HEIGHT // 8, WIDTH // 8, generator=generator)
    inpainted_latent = original_latent.clone()
    inpainted_latent[..., 10:40, 20:60] += torch.randn(1, 16, LATENT_FRAMES, 30, 40, generator=generator)
    original = torch.rand(FRAMES, HEIGHT, WIDTH, 3, generator=generator)
    inpainted = torch.rand(FRAMES, HEIGHT, WIDTH, 3, generator=generator)
    mask = torch.zeros(1, HEIGHT, WIDTH)
    mask[:, 80:320, 160:480] = 1

    composite = nodes.NODE_CLASS_MAPPINGS["AdaptiveDifferenceComposite"]
    pixel_mask = composite.execute(original, inpainted, {"samples": inpainted_latent}, 0.0, 0.5, 2.0,
                                   original_latent={"samples": original_latent}, mask=mask, model=model).args[1]

    def soft():
        composite.execute(original, inpainted, {"samples": inpainted_latent}, 0.0, 0.5, 2.0,
                          original_latent={"samples": original_latent}, mask=mask, model=model)

    def baseline():
        ImageCompositeMasked.execute(original, inpainted, 0, 0, False, pixel_mask)

    times = {"soft": [], "stock": []}
    for _ in range(ROUNDS):
        times["soft"].append(_timed(soft))
        times["stock"].append(_timed(baseline))
    soft_time, stock_time = statistics.median(times["soft"]), statistics.median(times["stock"])
    ratio = soft_time / stock_time
    print(f"{FRAMES} frames of {HEIGHT}x{WIDTH}, median of {ROUNDS} alternating runs:")
    print(f"  Adaptive Difference Composite  {soft_time:7.3f} s")
    print(f"  ImageCompositeMasked           {stock_time:7.3f} s")
    print(f"  ratio {ratio:.2f} (goal: at most {GOAL}) {'ok' if ratio <= GOAL else 'MISSED'}")


if __name__ == "__main__":
    main()
