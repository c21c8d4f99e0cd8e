"""Reading and verifying a model bundle (format v1, see docs/bundle-format.md).

A bundle is untrusted input: every file the manifest lists is checked for size and sha256 before use, and
every path it names must stay inside the bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import (
    BundleError,
    BundleIntegrityError,
    BundleNotFoundError,
    UnknownLabelSetError,
    UnsupportedBundleVersionError,
)

FORMAT_NAME = "emolite-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_BUNDLE = Path(__file__).parent / "bundles" / "default"
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


@dataclass(frozen=True)
class LabelSet:
    """A named label set: names, the prompts their embeddings came from, decision rule, embeddings."""

    name: str
    labels: tuple[str, ...]
    prompts: dict[str, list[str]]
    multi_label: bool
    thresholds: np.ndarray  # (n_labels,) probability thresholds, used when multi_label
    embeddings: np.ndarray  # (n_labels, dim) float32, L2-normalised
    description: str = ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Bundle:
    """A verified bundle directory. Construct with `Bundle.open(path)`."""

    def __init__(self, root: Path, manifest: dict[str, Any]):
        self.root = root
        self.manifest = manifest
        self._label_sets: dict[str, LabelSet] = {}

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, verify: bool = True) -> Bundle:
        """Open the bundle at `path` (a directory or an archive of one); the shipped default when None."""
        root = _resolve_root(Path(path) if path is not None else DEFAULT_BUNDLE)
        bundle = cls(root, read_manifest(root))
        if verify:
            bundle.verify_files()
        return bundle

    def file(self, relpath: str) -> Path:
        """Absolute path of a bundle file, refusing paths that leave the bundle or are not in the manifest."""
        if relpath not in self.manifest["files"]:
            raise BundleIntegrityError(f"{self.root}: '{relpath}' is used but not listed in manifest 'files'")
        parts = Path(relpath).parts
        if not parts or Path(relpath).is_absolute() or ".." in parts:
            raise BundleIntegrityError(f"{self.root}: manifest path '{relpath}' points outside the bundle")
        return self.root / relpath

    def verify_files(self) -> None:
        """Check every listed file's presence, size and sha256."""
        for relpath, meta in self.manifest["files"].items():
            path = self.file(relpath)
            if not path.is_file():
                raise BundleNotFoundError(
                    f"bundle {self.root} is missing '{relpath}'; re-copy the whole bundle or re-run emolite export"
                )
            size = path.stat().st_size
            if size != meta["bytes"]:
                raise BundleIntegrityError(
                    f"bundle file '{relpath}' has {size} bytes, the manifest says {meta['bytes']}: "
                    "the file is truncated or replaced; re-copy the bundle"
                )
            if sha256_of(path) != meta["sha256"]:
                raise BundleIntegrityError(
                    f"bundle file '{relpath}' fails its sha256 check: the file is corrupt or was modified; "
                    "re-copy the bundle"
                )

    # -- contents --------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self.manifest["encoder"]["embedding_dim"])

    @property
    def max_seq_length(self) -> int:
        return int(self.manifest["tokenizer"]["max_seq_length"])

    @property
    def default_label_set(self) -> str:
        return self.manifest["default_label_set"]

    def label_set_names(self) -> list[str]:
        return list(self.manifest["label_sets"])

    def label_set(self, name: str) -> LabelSet:
        if name not in self._label_sets:
            self._label_sets[name] = self._read_label_set(name)
        return self._label_sets[name]

    def _read_label_set(self, name: str) -> LabelSet:
        sets = self.manifest["label_sets"]
        if name not in sets:
            raise UnknownLabelSetError(
                f"unknown label set '{name}'; this bundle has: {', '.join(sets)} "
                "(or pass a list of label words)"
            )
        meta = sets[name]
        labels = tuple(meta["labels"])
        n = len(labels)
        raw = np.fromfile(self.file(meta["file"]), dtype="<f4")
        if raw.size != n * self.dim:
            raise BundleIntegrityError(
                f"label set '{name}': {raw.size} floats in {meta['file']}, expected {n} x {self.dim}"
            )
        thresholds = np.asarray(meta.get("thresholds", [0.5] * n), dtype=np.float32)
        if thresholds.shape != (n,):
            raise BundleIntegrityError(f"label set '{name}': {thresholds.size} thresholds for {n} labels")
        return LabelSet(
            name=name,
            labels=labels,
            prompts={k: list(v) for k, v in meta.get("prompts", {}).items()},
            multi_label=bool(meta["multi_label"]),
            thresholds=thresholds,
            embeddings=raw.reshape(n, self.dim).astype(np.float32, copy=False),
            description=meta.get("description", ""),
        )


def read_manifest(root: Path) -> dict[str, Any]:
    """Read and structurally check manifest.json (cheap: no hashing)."""
    path = root / MANIFEST
    if not path.is_file():
        raise BundleNotFoundError(f"{root} is not an emolite bundle: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleIntegrityError(f"{path} is not valid JSON ({exc}); re-copy the bundle") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise BundleIntegrityError(f"{path} is not an emolite bundle manifest (no \"format\": \"{FORMAT_NAME}\")")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise UnsupportedBundleVersionError(
            f"bundle {root} has format version {version!r}; this emolite reads version {FORMAT_VERSION}. "
            "Upgrade emolite (pip install -U emolite) or re-export the bundle with this version"
        )
    for key in ("encoder", "tokenizer", "formats", "label_sets", "files", "golden", "scoring"):
        if not isinstance(manifest.get(key), dict):
            raise BundleIntegrityError(f"{path}: manifest field '{key}' is missing or not an object")
    return manifest


def _resolve_root(path: Path) -> Path:
    if path.is_dir():
        return path
    if not path.exists():
        raise BundleNotFoundError(f"no bundle at {path}")
    if path.name.endswith(_ARCHIVE_SUFFIXES):
        return _extract_archive(path)
    raise BundleError(f"{path} is neither a bundle directory nor an archive ({', '.join(_ARCHIVE_SUFFIXES)})")


def _cache_dir() -> Path:
    return Path(os.environ.get("EMOLITE_CACHE", Path.home() / ".cache" / "emolite"))


def _extract_archive(archive: Path) -> Path:
    """Unpack an archived bundle once into the cache, keyed by the archive's sha256."""
    import shutil  # archive support only: these imports cost ~5 ms and 1.6 MB at every start
    import tempfile

    target = _cache_dir() / "bundles" / sha256_of(archive)[:20]
    if not (target / MANIFEST).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent))
        try:
            _unpack(archive, tmp)
            inner = tmp if (tmp / MANIFEST).is_file() else _single_subdir(tmp)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(inner, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _unpack(archive: Path, dest: Path) -> None:
    import tarfile
    import zipfile

    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(dest)  # zipfile drops absolute paths and '..' components
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(dest, filter="data")  # 'data' refuses links and paths leaving dest
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise BundleIntegrityError(f"cannot unpack bundle archive {archive}: {exc}") from exc


def _single_subdir(tmp: Path) -> Path:
    entries = [p for p in tmp.iterdir() if p.is_dir()]
    if len(entries) == 1 and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise BundleNotFoundError(f"archive holds no {MANIFEST} at its top or in a single folder")
