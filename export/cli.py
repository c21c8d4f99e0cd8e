"""`emolite export`: checkpoint -> bundle."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a checkpoint to a model bundle",
        description="Export a student checkpoint ('base' = all-MiniLM-L6-v2) to an int8 model bundle.",
    )
    p.add_argument("checkpoint", help="checkpoint folder, or 'base' for the packaged all-MiniLM-L6-v2")
    p.add_argument("--out", required=True, help="bundle folder to write (replaced if it exists)")
    p.add_argument("--formats", default="onnx", help="comma-separated: onnx")
    p.add_argument("--label-sets", default=None, help="comma-separated label-set names (default: all shipped)")
    p.add_argument("--name", default=None, help="bundle name recorded in the manifest")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    import logging

    from .bundle_writer import export_bundle
    from .label_sets import DEFAULT_LABEL_SETS

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    sets = args.label_sets.split(",") if args.label_sets else DEFAULT_LABEL_SETS
    out = export_bundle(args.checkpoint, args.out, formats=args.formats.split(","), label_sets=sets, name=args.name)
    print(f"wrote {out}")
    return 0
