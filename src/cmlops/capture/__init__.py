"""Lineage capture in notebooks: magics, I/O hooks, namespace diffing, export.

Imported only when used (``%load_ext cmlops`` or ``cmlops.track``): a kernel
that does not track pays nothing.
"""
