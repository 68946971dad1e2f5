"""vidugate: an open video-generation API gateway."""

__version__ = "0.1.0"
