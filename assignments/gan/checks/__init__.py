"""Checks of the GAN lab.

``common.py`` (helpers the public checks use: the ring of Gaussians, its
judge and the observe side's training loop) and ``public.py`` ship to
students; ``hidden.py``, ``private.py`` (helpers only hidden checks' judges
use) and ``optional.py`` (the long DCGAN check) stay with the graders.
"""
