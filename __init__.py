"""ComfyUI entry point of the Soft Inpainting node pack."""

from .nodes.extension import comfy_entrypoint

WEB_DIRECTORY = "./web"

__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
