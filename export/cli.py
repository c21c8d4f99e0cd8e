"""`emolite export`: checkpoint -> bundle."""

from __future__ import annotations

import argparse

EXTRA = "export"  # the pip extra these commands need
REQUIRES = ("torch", "transformers", "onnx", "litert_torch")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `emolite export` to the CLI's subcommands."""
    p = sub.add_parser(
        "export",
        help="export a checkpoint to a model bundle",
        description="Export a student checkpoint ('base' = all-MiniLM-L6-v2) to an int8 model bundle.",
    )
    p.add_argument("checkpoint", help="checkpoint folder, or 'base' for the packaged all-MiniLM-L6-v2")
    p.add_argument("--out", required=True, help="bundle folder to write (replaced if it exists)")
    p.add_argument("--formats", default="onnx,tflite", help="comma-separated: onnx, tflite (default both)")
    p.add_argument(
        "--label-sets", default=None, help="comma-separated label-set names (default: all shipped)"
    )
    p.add_argument("--name", default=None, help="bundle name recorded in the manifest")
    p.add_argument(
        "--gate-texts",
        type=int,
        default=None,
        help="GoEmotions dev texts for the zero-shot gate (default: all teacher-labelled rows)",
    )
    p.add_argument(
        "--buckets",
        default=None,
        help="comma-separated TFLite signature lengths, ending at the model's max length "
        "(default: 8,12,16,20,24,32,48,64,96,128)",
    )
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Export, print the parity report; exit 1 when a gate fails (the bundle is still written for inspection)."""
    import logging
    from pathlib import Path

    from emolite.catalog import DEFAULT_LABEL_SETS

    from .bundle_writer import SEQUENCE_BUCKETS, ParityGateError, export_bundle

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("emolite").setLevel(logging.INFO)
    sets = _names(args.label_sets) if args.label_sets else DEFAULT_LABEL_SETS
    formats = _names(args.formats)
    failed = None
    try:
        export_bundle(
            args.checkpoint,
            args.out,
            formats=formats,
            label_sets=sets,
            name=args.name,
            gate_texts=args.gate_texts,
            buckets=[int(n) for n in _names(args.buckets)] if args.buckets else SEQUENCE_BUCKETS,
        )
    except ParityGateError as exc:
        failed = exc
    parity = Path(args.out) / "parity.json"
    if parity.is_file():
        print(parity.read_text(encoding="utf-8"))
    if failed is not None:
        print(f"PARITY GATE FAILED: {failed}")
        return 1
    print(f"wrote {args.out}: every parity gate passed")
    return 0


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]
