"""`emolite train` and `emolite evaluate`: registered through the `emolite.commands` entry points; heavy
imports stay inside the commands."""

from __future__ import annotations

import argparse

EXTRA = "distill"  # the pip extra these commands need
REQUIRES = ("torch", "transformers", "sklearn")


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the student on teacher annotations",
        description="Contrastive training of the student encoder on an annotation store (see distill/configs).",
    )
    p.add_argument("--config", required=True, help="TOML config (e.g. distill/configs/default.toml)")
    p.add_argument("--out", required=True, help="run folder: epoch checkpoints, train_log.json, best/")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.set_defaults(func=cmd_train)

    q = sub.add_parser(
        "evaluate",
        help="zero-shot evaluation of models on every dataset",
        description="Evaluate models (bundle folder = int8 via the SDK; checkpoint folder or 'base' = fp32 "
        "torch) on ../shared/data and write JSON + Markdown.",
    )
    q.add_argument("models", nargs="+", metavar="[NAME=]PATH", help="bundle folder, checkpoint folder or 'base'")
    q.add_argument("--out", required=True, help="report path stem: writes STEM.json and STEM.md")
    q.add_argument("--data", default=None, help="data folder (default ../shared/data or $EMOLITE_DATA)")
    q.add_argument("--limit", type=int, default=0, help="first N rows of each set only (quick checks)")
    q.add_argument("--no-anchor", action="store_true", help="leave out the GPT-4 anchor row")
    q.add_argument("--record", default=None, metavar="CHECKPOINT",
                   help="also store the results in this checkpoint's emolite.json (export copies them)")
    q.set_defaults(func=cmd_evaluate)


def cmd_train(args: argparse.Namespace) -> int:
    import logging

    from .train import load_config, train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = load_config(args.config, args.set)
    best = train(cfg, args.out)
    print(f"best checkpoint: {best}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from . import evaluate

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = evaluate.run(args.models, Path(args.data) if args.data else None, args.limit, not args.no_anchor)
    json_path, md_path = evaluate.write(report, Path(args.out))
    if args.record:
        evaluate.record(Path(args.record), report)
    print(evaluate.markdown(report))
    print(f"wrote {json_path} and {md_path}")
    return 0
