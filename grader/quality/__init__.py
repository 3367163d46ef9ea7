"""The kit's own quality tooling (never shipped): call tracing and machine-made mutants."""
