"""``wheelmirror doctor``: check a machine and say what works and what to fix."""
