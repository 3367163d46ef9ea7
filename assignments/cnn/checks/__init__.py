"""Checks of the CNN lab: ``public.py`` ships to students, ``hidden.py`` does not."""

import tomllib
from pathlib import Path

#: The lab's metadata (thresholds and budgets live there, once).
LAB = tomllib.loads((Path(__file__).resolve().parent.parent / "lab.toml").read_text())
