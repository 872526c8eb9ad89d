"""ComfyUI nodes of the pack: thin adapters over `core`."""
