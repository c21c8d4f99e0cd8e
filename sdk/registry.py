"""Models as installable packages, found by name (models/README.md).

A model package registers its bundle in the entry-point group `emolite.bundles`: the entry point's name is
the model's name and its value names a data-only package whose folder is the bundle (it holds
manifest.json). The folder is found with `importlib.util.find_spec`, so no code of the model package is run
(for a dotted name, Python imports the parent packages, as for any submodule lookup). Standard library only.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BundleNotFoundError, InputTypeError, InvalidInputError

if TYPE_CHECKING:
    from importlib.metadata import Distribution, EntryPoint

GROUP = "emolite.bundles"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ModelInfo:
    """An installed model: its name, bundle folder and distribution; `error` says why it cannot be used."""

    name: str
    package: str  # the entry point's value: the package whose folder is the bundle
    path: Path | None
    distribution: str | None = None
    version: str | None = None
    error: str | None = None


def installed() -> dict[str, ModelInfo]:
    """Every model registered in `emolite.bundles`, by name. A broken entry is listed with its `error`."""
    models: dict[str, ModelInfo] = {}
    for ep, dist in _entry_points():
        if ep.name in models:  # one name in two distributions: the first on sys.path wins, as for imports
            continue
        path, error = _bundle_dir(ep.value)
        name = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        models[ep.name] = ModelInfo(ep.name, ep.value, path, name, version, error)
    return models


def resolve(name_or_path: str | os.PathLike | None) -> Path:
    """The bundle path a `path` argument means: a path, an installed model's name, or None (the default).

    The rule: None is the shipped default bundle; an `os.PathLike` is a path; a string holding a path
    separator (os.sep or os.altsep: "./default", "bundles/mine") is a path; any other string is an installed
    model's name (see `installed()`; exact, else case-insensitive), or, if no model has that name, a path
    that exists ("bundle.zip" in the working directory). Anything else raises `BundleNotFoundError`, which
    lists the installed names. The path itself is checked by `Bundle.open`.
    """
    if name_or_path is None:
        from .bundle import DEFAULT_BUNDLE

        return DEFAULT_BUNDLE
    if isinstance(name_or_path, os.PathLike):
        return Path(name_or_path)
    if not isinstance(name_or_path, str):
        raise InputTypeError(
            f"bundle must be a path, an installed model's name or None, got {type(name_or_path).__name__}"
        )
    if not name_or_path.strip():
        raise InvalidInputError("bundle is an empty string; give a path or an installed model's name")
    if any(sep and sep in name_or_path for sep in (os.sep, os.altsep)):
        return Path(name_or_path)
    models = installed()
    folded = {n.casefold(): m for n, m in models.items()}
    model = models.get(name_or_path) or folded.get(name_or_path.casefold())
    if model is not None:
        if model.error is not None or model.path is None:
            raise BundleNotFoundError(f"installed model '{model.name}' cannot be used: {model.error}")
        return model.path
    if Path(name_or_path).exists():
        return Path(name_or_path)
    names = ", ".join(sorted(models)) or "none"
    raise BundleNotFoundError(
        f"no installed model and no path named '{name_or_path}' (installed models: {names}); "
        f"install one with pip install ./models/{name_or_path} (or give a bundle's path: ./{name_or_path})"
    )


def _entry_points() -> list[tuple[EntryPoint, Distribution | None]]:
    """(entry point, its distribution or None) for the group, on Python 3.9 (a dict by group) and later."""
    from importlib.metadata import distributions, entry_points  # ~30 ms of imports: only when names are used

    found = entry_points()
    if hasattr(found, "select"):
        return [(ep, getattr(ep, "dist", None)) for ep in found.select(group=GROUP)]
    # Python 3.9: entry points do not know their distribution; find it among the distributions.
    owners: dict[tuple[str, str], Distribution] = {}
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group == GROUP:
                owners.setdefault((ep.name, ep.value), dist)
    return [(ep, owners.get((ep.name, ep.value))) for ep in found.get(GROUP, [])]


def _bundle_dir(package: str) -> tuple[Path | None, str | None]:
    """The folder of a data-only package holding manifest.json, found without running its code."""
    if ":" in package:
        return None, f"entry point value '{package}' names an object; it must name a package (a folder)"
    try:
        spec = importlib.util.find_spec(package)
    except Exception as exc:  # a missing or failing parent package: this entry is broken, the listing is not
        return None, f"package '{package}' cannot be found ({type(exc).__name__}: {exc})"
    if spec is None:
        return None, f"package '{package}' is not installed (reinstall the model's distribution)"
    if spec.submodule_search_locations is None:
        return None, f"'{package}' is a module ({spec.origin}), not a package folder holding a bundle"
    folders = [Path(p) for p in spec.submodule_search_locations]
    if not folders and spec.origin:
        folders = [Path(spec.origin).parent]
    for folder in folders:
        if (folder / MANIFEST).is_file():
            return folder, None
    where = ", ".join(str(f) for f in folders) or "?"
    return (folders[0] if folders else None), f"package '{package}' ({where}) holds no {MANIFEST}"
