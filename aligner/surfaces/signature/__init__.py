"""The Gmail signature surface: themed during the window, the original back after."""

from aligner.surfaces.signature.surface import GmailSignature

__all__ = ["GmailSignature"]
