"""The ``wheelmirror`` command line: only this layer prints and exits."""
