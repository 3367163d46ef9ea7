"""Checks of the GCN lab: ``public.py`` (with ``common.py``, the helpers and
training loops checks share) ships to students; ``hidden.py`` and
``private.py`` stay with the graders."""
