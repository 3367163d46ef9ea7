"""Checks of the Transformer lab: ``common.py`` (helpers the checks share) and
``public.py`` ship to students; ``hidden.py`` and ``private.py`` (helpers only
hidden checks use) stay with the graders."""
