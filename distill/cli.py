"""Commands of the distillation stage; each family lives in its own module and registers itself here."""

from __future__ import annotations

import importlib

_FAMILIES = ("emolite.distill.annotate_cli", "emolite.distill.train_cli")


def register(sub) -> None:
    for module in _FAMILIES:
        try:
            family = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real import error inside the module must surface
                raise
            continue
        family.register(sub)
