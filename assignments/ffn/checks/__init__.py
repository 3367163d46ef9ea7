"""Checks of the feed-forward lab: ``common.py`` (the "implement it yourself"
rules) and ``public.py`` ship to students; ``hidden.py`` and ``private.py``
do not."""
