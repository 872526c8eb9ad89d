"""ComfyUI entry point of the Soft Inpainting node pack."""

WEB_DIRECTORY = "./web"
