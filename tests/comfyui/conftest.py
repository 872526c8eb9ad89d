"""Fixtures that run the pack inside a real ComfyUI, when COMFYUI_PATH names a ComfyUI checkout.

ComfyUI is not on any package registry, so without COMFYUI_PATH every test here is skipped. With it,
run pytest with the Python that ComfyUI runs on (its requirements installed), for example:

    COMFYUI_PATH=~/ComfyUI ~/ComfyUI/venv/bin/python -m pytest tests

The servers the tests start serve the checkout's pinned frontend, or the one in COMFYUI_FRONTEND_ROOT (a
frontend's static folder, passed to ComfyUI's --front-end-root), e.g. a newer comfyui-frontend-package:

    pip install --no-deps --target /tmp/frontend comfyui-frontend-package==1.58.1
    COMFYUI_FRONTEND_ROOT=/tmp/frontend/comfyui_frontend_package/static ...
"""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = Path(__file__).resolve().parent


def _comfyui_path() -> Path:
    value = os.environ.get("COMFYUI_PATH")
    if not value:
        pytest.skip("COMFYUI_PATH is not set: these tests need a ComfyUI checkout (ComfyUI is not on any registry)")
    path = Path(value).expanduser().resolve()
    if not (path / "main.py").is_file() or not (path / "comfy").is_dir():
        pytest.fail(f"COMFYUI_PATH={value} is not a ComfyUI checkout (no main.py and comfy/ there)")
    return path


@pytest.fixture(scope="session")
def comfyui_path() -> Path:
    return _comfyui_path()


@pytest.fixture(scope="session")
def comfy_nodes(comfyui_path):
    """ComfyUI imported in this process, on the CPU, with this pack loaded as a custom node."""
    if str(comfyui_path) not in sys.path:
        sys.path.insert(0, str(comfyui_path))
    try:
        from comfy.cli_args import args
    except ImportError as error:
        pytest.fail(f"this Python cannot import ComfyUI from {comfyui_path} ({error}); use ComfyUI's Python")
    args.cpu = True
    import nodes

    assert Path(nodes.__file__).resolve().parent == comfyui_path, "ComfyUI's nodes module is shadowed"
    if "SoftLatentBlendKSampler" not in nodes.NODE_CLASS_MAPPINGS:
        assert asyncio.run(nodes.load_custom_node(str(REPO_ROOT))), "the pack failed to load; see the log"
    return nodes


def build_checkpoint(directory: Path, kind: str) -> Path:
    sys.path.insert(0, str(TESTS_DIR))
    try:
        from tiny_checkpoint import build_tiny_checkpoint
    finally:
        sys.path.remove(str(TESTS_DIR))
    return Path(build_tiny_checkpoint(directory / f"tiny_{kind}.safetensors", kind=kind, seed=0))


@pytest.fixture(scope="session")
def checkpoints_dir(tmp_path_factory, comfy_nodes) -> Path:
    directory = tmp_path_factory.mktemp("checkpoints")
    for kind in ("sd15", "sd15_inpaint", "sd3"):
        build_checkpoint(directory, kind)
    return directory


def _load(path):
    import comfy.sd

    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(path), output_vae=True, output_clip=True)
    return model, clip, vae


@pytest.fixture(scope="session")
def sd15(comfy_nodes, checkpoints_dir):
    """(model, clip, vae) of the tiny random SD1.5-shaped checkpoint, loaded by ComfyUI."""
    return _load(checkpoints_dir / "tiny_sd15.safetensors")


@pytest.fixture(scope="session")
def sd15_inpaint(comfy_nodes, checkpoints_dir):
    """(model, clip, vae) of a tiny random 9-channel SD1.5 inpainting checkpoint."""
    return _load(checkpoints_dir / "tiny_sd15_inpaint.safetensors")


@pytest.fixture(scope="session")
def sd3(comfy_nodes, checkpoints_dir):
    """(model, clip, vae) of a tiny random SD3-shaped flow checkpoint (16-channel latents)."""
    return _load(checkpoints_dir / "tiny_sd3.safetensors")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _frontend_arguments() -> list[str]:
    """--front-end-root for the frontend COMFYUI_FRONTEND_ROOT names; none for the checkout's pinned one."""
    value = os.environ.get("COMFYUI_FRONTEND_ROOT")
    if not value:
        return []
    root = Path(value).expanduser().resolve()
    if not (root / "index.html").is_file():
        pytest.fail(f"COMFYUI_FRONTEND_ROOT={value} is not a frontend's static folder (no index.html there)")
    return ["--front-end-root", str(root)]


@contextlib.contextmanager
def running_server(comfyui_path: Path, base: Path):
    """A ComfyUI server on a free loopback port, its base directory `base` (models/, input/, custom_nodes/...),
    serving the frontend COMFYUI_FRONTEND_ROOT names if set. Yields its URL; the server is stopped afterwards."""
    (base / "input").mkdir(exist_ok=True)
    port = _free_port()
    with open(base / "server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
             "--base-directory", str(base), "--disable-auto-launch", *_frontend_arguments()],
            cwd=comfyui_path, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, server, base / "server.log")
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(scope="session")
def comfy_server(comfyui_path, checkpoints_dir, tmp_path_factory):
    """A ComfyUI server with this pack (and the tests' stand-in text encoder node) in its custom nodes and the
    tiny checkpoints in its models.

    Yields (base_url, base_directory); the base directory holds models/, input/ and output/.
    """
    base = tmp_path_factory.mktemp("comfy_base")
    (base / "custom_nodes").mkdir()
    (base / "custom_nodes" / "soft-inpainting").symlink_to(REPO_ROOT, target_is_directory=True)
    # Conditioning for the example graphs whose text encoders are too large to build (tests only).
    (base / "custom_nodes" / "stand_in_text_encoder").symlink_to(TESTS_DIR / "stand_in_text_encoder",
                                                                 target_is_directory=True)
    (base / "models").mkdir()
    (base / "models" / "checkpoints").symlink_to(checkpoints_dir, target_is_directory=True)
    with running_server(comfyui_path, base) as url:
        yield url, base


@pytest.fixture(scope="session")
def comfy_server_without_pack(comfyui_path, tmp_path_factory):
    """The same ComfyUI with no custom nodes at all, to tell what ComfyUI and its frontend do by themselves.

    Yields (base_url, base_directory)."""
    base = tmp_path_factory.mktemp("comfy_without_pack")
    (base / "custom_nodes").mkdir()
    with running_server(comfyui_path, base) as url:
        yield url, base


def _wait_until_up(url, server, log_path, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"ComfyUI exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/system_stats", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"ComfyUI did not answer within {timeout} s:\n{log_path.read_text()[-3000:]}")
