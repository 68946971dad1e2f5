"""Domain: dataclasses, enums, the model table, the task states. Stdlib and errors only."""
