"""Checks of the regularisation lab: ``common.py`` (the "implement it yourself"
rules and the observe side's calls) and ``public.py`` ship to students;
``hidden.py`` and ``private.py`` do not."""
