"""aligner: one theme file, every surface telling the same story for a while, then put back."""

__version__ = "0.1.0"
