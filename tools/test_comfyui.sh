#!/usr/bin/env bash
# Run the whole test suite, the ComfyUI tests included, against one ComfyUI checkout:
#     tools/test_comfyui.sh ~/ComfyUI [pytest options]
# It uses the checkout's venv/bin/python when there is one (else python3 on PATH); that Python needs ComfyUI's
# requirements, pytest and hypothesis, and for the browser tests playwright plus Debian's chromium.
set -euo pipefail
checkout=$(cd "${1:?usage: tools/test_comfyui.sh COMFYUI_CHECKOUT [pytest options]}" && pwd)
shift
python=python3
[ -x "$checkout/venv/bin/python" ] && python="$checkout/venv/bin/python"
cd "$(dirname "$0")/.."
COMFYUI_PATH="$checkout" exec "$python" -m pytest tests -p no:cacheprovider "$@"
