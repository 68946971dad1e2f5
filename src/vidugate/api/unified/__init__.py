"""The seed platform's unified format: /v1/video/create and /v1/video/query."""
