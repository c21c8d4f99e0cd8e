"""The bundle contract as code: reading, verifying and writing a model bundle (format v2, docs/bundle-format.md).

A bundle is untrusted input. Every byte that can change an answer is verified before use: manifest.json
against manifest.sha256 (always, before it is parsed), every file the manifest lists for size and sha256,
and every path it names must stay inside the bundle. The export writes bundles with `write_manifest`, the
one writer of the format; `MANIFEST_SCHEMA` is its JSON Schema, used by the writer and the tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
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
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.sha256"  # lowercase hex sha256 of manifest.json's bytes, then a newline
MANIFEST_SCHEMA = Path(__file__).with_name("bundle_schema.json")
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
    # The set's own calibration (fitted on held-out teacher labels at export); None: the bundle's scoring.
    logit_scale: float | None = None
    logit_bias: np.ndarray | None = None  # (n_labels,)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Bundle:
    """A verified bundle directory. Construct with `Bundle.open(path)`.

    Opening checks the manifest's digest and every listed file's presence and size; each file's sha256 is
    proved at its first use (`file`), so a process hashes only what it reads (ONNX never hashes the TFLite
    model) and a runtime can parse its model while the model is hashed (`file_proved_later`).
    """

    def __init__(self, root: Path, manifest: dict[str, Any], manifest_sha256: str = "", verify: bool = True):
        self.root = root
        self.manifest = manifest
        self.manifest_sha256 = manifest_sha256  # the verified digest of manifest.json's bytes
        self.verify = verify
        self._proved: set[str] = set()  # files whose sha256 was checked
        self._proving = threading.Lock()
        self._label_sets: dict[str, LabelSet] = {}

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, verify: bool = True) -> Bundle:
        """Open the bundle at `path` (a directory or an archive of one); the shipped default when None.

        With `verify`, every listed file must be present with its recorded size now, and match its sha256
        before it is first used; `verify_files()` hashes them all at once.
        """
        root = _resolve_root(Path(path) if path is not None else DEFAULT_BUNDLE)
        bundle = cls(root, *read_verified_manifest(root), verify=verify)
        if verify:
            for relpath in bundle.manifest["files"]:
                bundle._check_size(relpath)
        return bundle

    def file(self, relpath: str) -> Path:
        """Absolute path of a bundle file, its sha256 proved (once) before the path is returned."""
        path, prove = self.file_proved_later(relpath)
        prove()
        return path

    def file_proved_later(self, relpath: str) -> tuple[Path, Callable[[], None]]:
        """(path, prove): the file is hashed in a background thread; `prove()` waits and raises
        BundleIntegrityError on a mismatch. Nothing read from the file may be used before `prove()` returns."""
        path = self._path(relpath)
        if not self.verify or relpath in self._proved:
            return path, lambda: None
        errors: list[BaseException] = []

        def check() -> None:
            try:
                self._check_sha256(relpath)
            except BaseException as exc:  # handed to prove()
                errors.append(exc)

        worker = threading.Thread(target=check, name=f"emolite-sha256-{relpath}", daemon=True)
        worker.start()

        def prove() -> None:
            worker.join()
            if errors:
                raise errors[0]

        return path, prove

    def verify_files(self) -> None:
        """Check every listed file's presence, size and sha256 now."""
        for relpath in self.manifest["files"]:
            self._check_size(relpath)
            self._check_sha256(relpath)

    def _path(self, relpath: str) -> Path:
        """Refuse paths that leave the bundle or are not in the manifest."""
        if relpath not in self.manifest["files"]:
            raise BundleIntegrityError(f"{self.root}: '{relpath}' is used but not listed in manifest 'files'")
        parts = Path(relpath).parts
        if not parts or Path(relpath).is_absolute() or ".." in parts:
            raise BundleIntegrityError(f"{self.root}: manifest path '{relpath}' points outside the bundle")
        return self.root / relpath

    def _check_size(self, relpath: str) -> None:
        path, meta = self._path(relpath), self.manifest["files"][relpath]
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

    def _check_sha256(self, relpath: str) -> None:
        if relpath in self._proved:
            return
        self._check_size(relpath)
        if sha256_of(self._path(relpath)) != self.manifest["files"][relpath]["sha256"]:
            raise BundleIntegrityError(
                f"bundle file '{relpath}' fails its sha256 check: the file is corrupt or was modified; "
                "re-copy the bundle"
            )
        with self._proving:
            self._proved.add(relpath)

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

    def label_set_name(self, name: str) -> str | None:
        """The bundle's spelling of a label-set name (names are case-insensitive), or None."""
        folded = {n.casefold(): n for n in self.manifest["label_sets"]}
        return folded.get(name.strip().casefold())

    def label_set(self, name: str) -> LabelSet:
        name = self.label_set_name(name) or name
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
        # memory-mapped: the rows stay in the page cache, shared between processes, read when scored
        raw = np.memmap(self.file(meta["file"]), dtype="<f4", mode="r")
        if raw.size != n * self.dim:
            raise BundleIntegrityError(
                f"label set '{name}': {raw.size} floats in {meta['file']}, expected {n} x {self.dim}"
            )
        thresholds = np.asarray(meta.get("thresholds", [0.5] * n), dtype=np.float32)
        if thresholds.shape != (n,):
            raise BundleIntegrityError(f"label set '{name}': {thresholds.size} thresholds for {n} labels")
        scale = meta.get("logit_scale")
        bias = None if meta.get("logit_bias") is None else np.asarray(meta["logit_bias"], dtype=np.float32)
        if bias is not None and bias.shape != (n,):
            raise BundleIntegrityError(f"label set '{name}': {bias.size} logit biases for {n} labels")
        return LabelSet(
            name=name,
            labels=labels,
            prompts={k: list(v) for k, v in meta.get("prompts", {}).items()},
            multi_label=bool(meta["multi_label"]),
            thresholds=thresholds,
            embeddings=raw.reshape(n, self.dim).astype(np.float32, copy=False),
            description=meta.get("description", ""),
            logit_scale=None if scale is None else float(scale),
            logit_bias=bias,
        )

    def text_encoder(self):
        """The bundle's text pipeline: emoji names (when the bundle has the table), then WordPiece."""
        from .emoji import EmojiNames
        from .text import TextEncoder

        tok = self.manifest["tokenizer"]
        emoji_file = (self.manifest.get("preprocessing") or {}).get("emoji_names")
        emoji = EmojiNames.from_file(self.file(emoji_file)) if emoji_file else None
        return TextEncoder(
            self.file(tok["file"]), self.max_seq_length, tok.get("pad_id", 0), tok.get("max_input_chars_per_word", 100), emoji
        )


def read_manifest(root: Path) -> dict[str, Any]:
    """Read manifest.json, prove its bytes against manifest.sha256, then check its structure."""
    return read_verified_manifest(root)[0]


def read_verified_manifest(root: Path) -> tuple[dict[str, Any], str]:
    """(manifest, the verified sha256 of its bytes): the bytes are read once, hashed, then parsed."""
    path = root / MANIFEST
    if not path.is_file():
        raise BundleNotFoundError(f"{root} is not an emolite bundle: it has no {MANIFEST}")
    raw = path.read_bytes()
    digest = check_manifest_digest(root, raw)
    try:
        manifest = json.loads(raw.decode("utf-8"))
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
    return manifest, digest


def check_manifest_digest(root: Path, raw: bytes) -> str:
    """Refuse a manifest whose bytes differ from the digest recorded beside it; returns the digest.

    This catches corruption, truncation and accidental edits of the manifest (thresholds, scale, bias,
    label names); it cannot catch someone who rewrites manifest.sha256 as well (see docs/bundle-format.md).
    """
    digest_file = root / MANIFEST_DIGEST
    if not digest_file.is_file():
        raise BundleIntegrityError(
            f"bundle {root} has no {MANIFEST_DIGEST}, so its manifest cannot be verified; re-export the bundle "
            "(bundles of format version 1 predate the manifest check)"
        )
    recorded = digest_file.read_text(encoding="ascii", errors="replace").strip().lower()
    if len(recorded) != 64 or any(c not in "0123456789abcdef" for c in recorded):
        raise BundleIntegrityError(f"{digest_file} does not hold a sha256 digest; re-copy the bundle")
    actual = hashlib.sha256(raw).hexdigest()
    if actual != recorded:
        raise BundleIntegrityError(
            f"{MANIFEST} of bundle {root} fails its integrity check (its sha256 differs from {MANIFEST_DIGEST}): "
            "the manifest was edited or corrupted; re-copy or re-export the bundle"
        )
    return actual


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """The one writer: record size and sha256 of every other file, write manifest.json, then its digest."""
    root = Path(root)
    skip = {MANIFEST, MANIFEST_DIGEST}
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).as_posix() not in skip)
    manifest["files"] = {
        p.relative_to(root).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in files
    }
    raw = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    (root / MANIFEST).write_bytes(raw)
    (root / MANIFEST_DIGEST).write_text(hashlib.sha256(raw).hexdigest() + "\n", encoding="ascii")


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Validate against the bundle JSON Schema (needs jsonschema: the export and the tests, not the runtime)."""
    import jsonschema

    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    try:
        jsonschema.validate(manifest, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise BundleIntegrityError(f"manifest does not follow the bundle schema at {where}: {exc.message}") from exc


def _resolve_root(path: Path) -> Path:
    if path.is_dir():
        return path
    if not path.exists():
        raise BundleNotFoundError(f"no bundle at {path}")
    if path.name.endswith(_ARCHIVE_SUFFIXES):
        return _extract_archive(path)
    raise BundleError(f"{path} is neither a bundle directory nor an archive ({', '.join(_ARCHIVE_SUFFIXES)})")


def cache_dir() -> Path:
    """$EMOLITE_CACHE, else ~/.cache/emolite: unpacked archives and runtime caches (never needed, always safe to delete)."""
    return Path(os.environ.get("EMOLITE_CACHE", Path.home() / ".cache" / "emolite"))


def _extract_archive(archive: Path) -> Path:
    """Unpack an archived bundle once into the cache, keyed by the archive's sha256."""
    import shutil  # archive support only: these imports cost ~5 ms and 1.6 MB at every start
    import tempfile

    target = cache_dir() / "bundles" / sha256_of(archive)[:20]
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
                for name in zf.namelist():
                    _check_member(archive, name)
                zf.extractall(dest)
        else:
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for member in members:
                    _check_member(archive, member.name)
                    if not (member.isfile() or member.isdir()):
                        raise BundleIntegrityError(
                            f"bundle archive {archive}: '{member.name}' is a link or device; a bundle holds only files"
                        )
                # The checks above are the safety on every Python; tarfile's own 'data' filter (3.8.17+,
                # 3.9.17+, 3.10.12+, 3.11.4+) is added where this Python has it. Debian 12's 3.11.2 has not.
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(dest, members=members, filter="data")
                else:
                    tf.extractall(dest, members=members)
    except BundleError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise BundleIntegrityError(f"cannot unpack bundle archive {archive}: {exc}") from exc


def _check_member(archive: Path, name: str) -> None:
    """Refuse archive entries that would land outside the extraction folder."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise BundleIntegrityError(f"bundle archive {archive}: entry '{name}' points outside the bundle")


def _single_subdir(tmp: Path) -> Path:
    entries = [p for p in tmp.iterdir() if p.is_dir()]
    if len(entries) == 1 and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise BundleNotFoundError(f"archive holds no {MANIFEST} at its top or in a single folder")
