"""Checks of the RNN lab: ``common.py`` and ``public.py`` ship to students;
``hidden.py`` and ``private.py`` do not."""
