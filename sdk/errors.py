"""One exception hierarchy. Each error also derives from the built-in a caller would catch anyway."""

from __future__ import annotations


class EmoliteError(Exception):
    """Base class of every error raised by emolite."""


class InvalidInputError(EmoliteError, ValueError):
    """A text, label or option whose value cannot be used (empty, whitespace only, duplicates, out of range)."""


class InputTypeError(EmoliteError, TypeError):
    """A text, label or option of the wrong type (None, bytes, a number where a str belongs)."""


class UnknownLabelSetError(EmoliteError, KeyError):
    """A label-set name the bundle does not carry."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class BundleError(EmoliteError, OSError):
    """A model bundle that cannot be used."""


class BundleNotFoundError(BundleError, FileNotFoundError):
    """The bundle directory, archive or one of its files is missing."""


class BundleIntegrityError(BundleError):
    """A bundle file whose size or sha256 differs from the manifest, or a malformed manifest."""


class UnsupportedBundleVersionError(BundleError):
    """A bundle written in a format version this SDK cannot read."""


class BackendUnavailableError(EmoliteError, ImportError):
    """The requested runtime (onnxruntime, ai-edge-litert) is not installed or not usable."""


class RuntimeVerificationError(EmoliteError, RuntimeError):
    """The runtime's output on the bundle's golden probe texts is wrong: its predictions cannot be trusted."""
