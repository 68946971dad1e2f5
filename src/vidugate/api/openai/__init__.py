"""The seed's surface: /v1/videos and /v1/models, OpenAI-shaped."""
