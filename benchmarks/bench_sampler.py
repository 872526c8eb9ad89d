"""The Soft Latent Blend KSampler against ComfyUI's stock KSampler with a noise mask, in the same run.

    COMFYUI_PATH=~/ComfyUI ~/ComfyUI/venv/bin/python benchmarks/bench_sampler.py

Both sample the same tiny random SD1.5-shaped model (generated here) with the same seed, steps and mask;
runs alternate so that drift in machine speed hits both. Prints the median time of each and the ratio.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LATENT = 32  # a 256x256 picture
STEPS = 6
ROUNDS = 7


def load_comfyui():
    comfyui = os.environ.get("COMFYUI_PATH")
    if not comfyui:
        sys.exit("set COMFYUI_PATH to a ComfyUI checkout and run with ComfyUI's Python")
    sys.path.insert(0, str(Path(comfyui).resolve()))
    from comfy.cli_args import args

    args.cpu = True
    import nodes

    asyncio.run(nodes.load_custom_node(str(ROOT)))
    return nodes


def main():
    nodes = load_comfyui()
    import comfy.sd
    import torch

    sys.path.insert(0, str(ROOT / "tests" / "comfyui"))
    from tiny_checkpoint import build_tiny_checkpoint

    with tempfile.TemporaryDirectory() as directory:
        path = build_tiny_checkpoint(Path(directory) / "tiny.safetensors", kind="sd15", seed=0)
        model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path), output_vae=True, output_clip=True)
    encode = nodes.CLIPTextEncode()
    positive, negative = encode.encode(clip, "a red brick wall")[0], encode.encode(clip, "blurry")[0]
    mask = torch.zeros(1, LATENT * 8, LATENT * 8)
    mask[:, 64:192, 64:192] = 1
    latent = {"samples": torch.randn(1, 4, LATENT, LATENT, generator=torch.Generator().manual_seed(0))}
    masked = nodes.SetLatentNoiseMask().set_mask(latent, mask)[0]
    soft_node = nodes.NODE_CLASS_MAPPINGS["SoftLatentBlendKSampler"]

    def stock():
        nodes.common_ksampler(model, 0, STEPS, 7.0, "euler", "normal", positive, negative, masked)

    def soft():
        soft_node.execute(model=model, seed=0, steps=STEPS, cfg=7.0, sampler_name="euler", scheduler="normal",
                          positive=positive, negative=negative, latent_image=latent, denoise=1.0, mask=mask)

    times = {"stock KSampler + noise mask": [], "Soft Latent Blend KSampler": []}
    with torch.inference_mode():
        stock(), soft()  # warm up
        for _ in range(ROUNDS):
            for name, run in zip(times, (stock, soft), strict=True):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>28}: {value * 1e3:8.1f} ms  ({STEPS} steps, {LATENT}x{LATENT} latent, median of {ROUNDS})")
    stock_time, soft_time = medians.values()
    print(f"soft / stock: {soft_time / stock_time:.3f} (target: within 1.05)")


if __name__ == "__main__":
    main()
