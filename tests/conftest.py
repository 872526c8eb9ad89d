import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _import_core():
    """Make the pack's `core` importable as a top-level package without putting the repository root on
    sys.path: there, the pack's `nodes/` would shadow ComfyUI's `nodes` module in the ComfyUI tests."""
    if "core" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "core", REPO_ROOT / "core" / "__init__.py", submodule_search_locations=[str(REPO_ROOT / "core")]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["core"] = module
    spec.loader.exec_module(module)


_import_core()
