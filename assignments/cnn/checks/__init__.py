"""Checks of the CNN lab: ``common.py`` and ``public.py`` ship to students;
``hidden.py`` and ``private.py`` do not."""
