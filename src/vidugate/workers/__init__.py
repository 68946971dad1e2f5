"""Background loops: claim work, call a service, sleep."""
