"""Draw the pictures of the README and node help pages with the project's own core, on a real photo.

    pip install matplotlib && python tools/make_pictures.py

No diffusion model is involved (none can be downloaded here): the pictures show what each piece of `core`
does to real pixels. The photo is Grace Hopper's portrait that ships with matplotlib's sample data.
Writes web/docs/images/*.png.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.cbook  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import core  # noqa: E402

OUT = ROOT / "web" / "docs" / "images"
SIZE = 384
KARRAS_SIGMAS = [(14.6146 ** (1 / 7) + i / 19 * (0.0292 ** (1 / 7) - 14.6146 ** (1 / 7))) ** 7 for i in range(20)]


def photo() -> torch.Tensor:
    """The photo as a ComfyUI image [1,H,W,3] in 0-1."""
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = Image.open(path).convert("RGB").crop((0, 0, 512, 512)).resize((SIZE, SIZE), Image.LANCZOS)
    return torch.from_numpy(np.array(image)).float()[None] / 255


def painted_mask() -> torch.Tensor:
    """A hard mask over the background right of the face, as a user would paint it: [1,H,W]."""
    ys, xs = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    return (((xs - 300) / 70) ** 2 + ((ys - 120) / 95) ** 2 <= 1).float()[None]


def pseudo_latent(image: torch.Tensor) -> torch.Tensor:
    """Stand-in for a VAE latent: the picture averaged over 8x8 blocks, centred ([B,3,H/8,W/8])."""
    return F.avg_pool2d(image.permute(0, 3, 1, 2) * 2 - 1, 8)


def save(figure, name: str) -> None:
    figure.savefig(OUT / name, dpi=80, bbox_inches="tight", facecolor="white")
    plt.close(figure)
    print(OUT / name)


def panels(images, titles, name, columns=None):
    columns = columns or len(images)
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.4 * rows))
    for axis, image, title in zip(np.ravel(axes), images, titles, strict=True):
        shown = image.squeeze(0).clamp(0, 1).numpy()
        axis.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        axis.set_title(title, fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
    save(figure, name)


def soft_mask_picture(image, mask):
    soft = core.prepare_mask(mask, 12.0, 12.0)
    kept = [1 - core.modified_nmask(soft, sigma, 1.0, 0.5) for sigma in (14.6, 2.0, 0.3)]
    shown = [image * (1 - mask[..., None]) + mask[..., None] * torch.tensor([1.0, 0.2, 0.2]), soft] + kept
    titles = ["painted mask", "mask blur 12 (Mask Prep)", "kept (white) at sigma 14.6", "kept at sigma 2",
              "kept at sigma 0.3"]
    panels(shown, titles, "soft_mask.png")


def blend_picture(image):
    other = image.flip(2)[..., [2, 0, 1]]  # the photo mirrored, its colours rotated
    ramp = torch.linspace(0, 1, SIZE).expand(1, 1, SIZE, SIZE)
    a, b = image.permute(0, 3, 1, 2) - 0.5, other.permute(0, 3, 1, 2) - 0.5  # pixels as vectors round grey
    linear = torch.lerp(a, b, ramp)
    boosted = core.latent_blend(a, b, ramp, 4.0)
    shown = [(x + 0.5).permute(0, 2, 3, 1) for x in (a, b, linear, boosted)]
    figure, axes = plt.subplots(1, 5, figsize=(17, 3.6))
    titles = ["a (t = 0)", "b (t = 1)", "plain linear blend, t left to right", "latent_blend, boost 4"]
    for axis, picture, title in zip(axes, shown, titles, strict=False):
        axis.imshow(picture[0].clamp(0, 1).numpy())
        axis.set_title(title, fontsize=10)
        axis.axis("off")
    t = ramp[0, 0, 0].numpy()
    strongly_boosted = core.latent_blend(a, b, ramp, 16.0)
    for blended, label in ((linear, "linear"), (boosted, "boost 4"), (strongly_boosted, "boost 16")):
        axes[4].plot(t, torch.linalg.vector_norm(blended, dim=1).mean(dim=(0, 1)).numpy(), label=label)
    axes[4].set_xlabel("t (blend position)")
    axes[4].set_ylabel("mean contrast (vector length)")
    axes[4].legend(fontsize=9)
    axes[4].set_title("contrast across the blend", fontsize=10)
    figure.subplots_adjust(wspace=0.3)
    save(figure, "blend_vs_linear.png")


def composite_picture(image, mask):
    soft = core.prepare_mask(mask, 12.0, 12.0)
    # A stand-in inpainting: new content in the mask, and the slight colour shift of a VAE round trip everywhere.
    grain = torch.rand(1, SIZE, SIZE, 3, generator=torch.Generator().manual_seed(0))
    new_content = torch.tensor([0.35, 0.45, 0.65]) + 0.1 * grain
    inpainted = torch.lerp(image, new_content, soft[..., None])
    inpainted = (inpainted * torch.tensor([1.04, 0.98, 0.95]) + 0.01).clamp(0, 1)
    latent_mask = core.adaptive_latent_mask(F.avg_pool2d(soft[:, None], 8), pseudo_latent(image),
                                            pseudo_latent(inpainted), core.SoftInpaintSettings())
    pixel_mask = core.pixel_composite_mask(latent_mask, SIZE, SIZE)
    result = core.composite(image, inpainted, pixel_mask)
    difference = ((result - image).abs() * 8).clamp(0, 1)
    titles = ["original", "inpainted (with colour shift)", "compositing mask", "composite",
              "|composite - original| x 8"]
    panels([image, inpainted, pixel_mask, result, difference], titles, "compositing_mask.png")


def schedule_picture():
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
    sigmas = torch.tensor(KARRAS_SIGMAS)
    for axis, bias in zip(axes, (0.5, 1.0, 2.0), strict=True):
        for opacity in (0.25, 0.5, 0.75):
            kept = 1 - core.modified_nmask(torch.full_like(sigmas, opacity), sigmas, bias, 0.5)
            axis.plot(range(1, 21), kept.numpy(), marker=".", label=f"mask {opacity}")
        axis.set_title(f"schedule_bias {bias}, preservation_strength 0.5", fontsize=10)
        axis.set_xlabel("step (20 Karras steps, SD1.5)")
    axes[0].set_ylabel("share of the original kept")
    axes[0].legend(fontsize=9)
    save(figure, "schedule_curves.png")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    image, mask = photo(), painted_mask()
    soft_mask_picture(image, mask)
    blend_picture(image)
    composite_picture(image, mask)
    schedule_picture()


if __name__ == "__main__":
    main()
