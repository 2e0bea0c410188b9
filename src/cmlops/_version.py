"""The kit's version, recorded in every audit package and environment snapshot."""

__version__ = "0.2.0"
