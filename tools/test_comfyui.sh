#!/usr/bin/env bash
# Run the whole test suite, the ComfyUI tests included, or the test files named, against one ComfyUI checkout:
#     tools/test_comfyui.sh [--frontend STATIC_DIR] ~/ComfyUI [test files] [pytest options]
# It uses the checkout's venv/bin/python when there is one (else python3 on PATH); that Python needs ComfyUI's
# requirements, pytest and hypothesis, and for the browser tests playwright plus Debian's chromium.
# --frontend serves another frontend than the checkout's pinned one (ComfyUI's --front-end-root), e.g.
#     pip install --no-deps --target /tmp/frontend comfyui-frontend-package==1.58.1
#     tools/test_comfyui.sh --frontend /tmp/frontend/comfyui_frontend_package/static ~/ComfyUI
set -euo pipefail
usage="usage: tools/test_comfyui.sh [--frontend STATIC_DIR] COMFYUI_CHECKOUT [pytest options]"
if [ "${1:-}" = "--frontend" ]; then
    COMFYUI_FRONTEND_ROOT=$(cd "${2:?$usage}" && pwd)
    export COMFYUI_FRONTEND_ROOT
    shift 2
fi
checkout=$(cd "${1:?$usage}" && pwd)
shift
python=python3
[ -x "$checkout/venv/bin/python" ] && python="$checkout/venv/bin/python"
cd "$(dirname "$0")/.."
# The whole suite unless test files or folders are named.
targets=(tests)
for argument in "$@"; do
    [ -e "${argument%%::*}" ] && targets=()
done
COMFYUI_PATH="$checkout" exec "$python" -m pytest "${targets[@]}" -p no:cacheprovider "$@"
