"""The vidugate command line (Typer + Rich)."""
