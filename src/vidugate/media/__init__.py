"""Media: rendering and image handling; pure functions over paths and bytes, no DB or HTTP."""
