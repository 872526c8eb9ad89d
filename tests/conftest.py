import sys
from pathlib import Path

# `core` is importable as a top-level package from the repository root. ComfyUI tests run ComfyUI in
# its own processes, so the pack's `nodes/` never shadows ComfyUI's `nodes` module here.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
