"""The engine: one session per run, and the runner that plans and runs the checks through it."""
