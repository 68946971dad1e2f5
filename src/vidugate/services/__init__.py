"""Use cases: create, read, cancel, delete, advance tasks; serve content; keys."""
