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
    q.add_argument("--adapt", action="store_true",
                   help="also score each model after label-free prior adaptation (unlabelled train-split texts)")
    q.add_argument("--record", default=None, metavar="CHECKPOINT",
                   help="also store the results in this checkpoint's emolite.json (export copies them)")
    q.set_defaults(func=cmd_evaluate)

    q = sub.add_parser(
        "protocol",
        help="label-free selection numbers of models (held-out teacher labels only)",
        description="Score models on the selection protocol's axes (distill/protocol.py): unseen emotions "
        "(with --folds), unseen wording, coarse sets, in-domain; each at every --average weight.",
    )
    q.add_argument("models", nargs="+", metavar="[NAME=]CHECKPOINT", help="checkpoint folders or 'base'")
    q.add_argument("--config", required=True, help="the training config whose held-out texts are used")
    q.add_argument("--folds", default=None, help="folder of the fold models (emolite protocol-folds)")
    q.add_argument("--average", default="1.0", help="comma-separated weights of the model vs the base encoder")
    q.add_argument("--members", choices=("off", "on", "both"), default="off",
                   help="grouped sets also embed their member labels' prompts")
    q.add_argument("--out", required=True, help="report stem: writes STEM.json and STEM.md")
    q.set_defaults(func=cmd_protocol)

    q = sub.add_parser("protocol-folds", help="train the leave-labels-out fold models of the protocol")
    q.add_argument("--config", required=True)
    q.add_argument("--out", required=True, help="folder: one run per fold (fold0, fold1, ...)")
    q.add_argument("--max-train-examples", type=int, default=8000, help="teacher texts per fold model")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    q.set_defaults(func=cmd_protocol_folds)

    q = sub.add_parser("average", help="average a checkpoint with the base encoder and calibrate it")
    q.add_argument("checkpoint")
    q.add_argument("--weight", type=float, required=True, help="weight of the checkpoint (1 = itself)")
    q.add_argument("--config", required=True, help="training config: held-out texts and calibration settings")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    q.add_argument("--out", required=True, help="checkpoint folder to write")
    q.set_defaults(func=cmd_average)


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
    report = evaluate.run(
        args.models, Path(args.data) if args.data else None, args.limit, not args.no_anchor, adapt=args.adapt
    )
    json_path, md_path = evaluate.write(report, Path(args.out))
    if args.record:
        evaluate.record(Path(args.record), report)
    print(evaluate.markdown(report))
    print(f"wrote {json_path} and {md_path}")
    return 0


def cmd_protocol(args: argparse.Namespace) -> int:
    import logging
    from dataclasses import replace
    from pathlib import Path

    from . import protocol
    from .model import StudentEncoder, average_with_base
    from .scoring import TorchScorer
    from .train import load_config, prepare_data

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = load_config(args.config)
    held = protocol.Heldout(prepare_data(replace(cfg, max_train_examples=1)).heldout)
    weights = [float(w) for w in args.average.split(",")]
    members = {"off": [False], "on": [True], "both": [False, True]}[args.members]
    fold_encoders = None
    if args.folds:
        fold_encoders = [StudentEncoder.from_pretrained(Path(args.folds) / f"fold{f}" / "best")
                         for f in range(protocol.FOLDS)]
    rows = {}
    for spec in args.models:
        name, sep, path = spec.partition("=")
        name, path = (name, path) if sep else (Path(spec).name or spec, spec)
        encoder = StudentEncoder.from_pretrained(path)
        trained = bool(encoder.meta.get("training"))  # the base or any other sentence encoder: never trained here
        for weight in weights if trained else [1.0]:
            mixed = encoder if weight == 1.0 else average_with_base(encoder, weight)
            unseen = None
            if fold_encoders is not None:  # the fold models get the same treatment as the model
                if not trained:  # nothing was left out of it: it is its own fold model
                    folds = [TorchScorer(encoder, thresholds={}, calibration={})] * protocol.FOLDS
                else:
                    folds = [TorchScorer(f if weight == 1.0 else average_with_base(f, weight), thresholds={},
                                         calibration={}) for f in fold_encoders]
                unseen = protocol.unseen_emotions(folds, held)
            emb = None
            for member in members:
                label = f"{name} w={weight}" + (" members" if member else "")
                scorer = TorchScorer(mixed, thresholds={}, members=member, calibration={})
                emb = scorer.embed(held.texts) if emb is None else emb
                rows[label] = {**protocol.evaluate(scorer, held, emb=emb),
                               **({} if unseen is None else {"unseen_emotions": unseen})}
                logging.info("%s: %s", label, rows[label])
    protocol.write(rows, Path(args.out))
    print(protocol.report(rows))
    return 0


def cmd_protocol_folds(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from . import protocol
    from .train import load_config, train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = load_config(args.config, args.set)
    for fold, fold_cfg in enumerate(protocol.fold_configs(cfg, max_train_examples=args.max_train_examples)):
        best = train(fold_cfg, Path(args.out) / f"fold{fold}")
        print(f"fold {fold} (without {', '.join(fold_cfg.exclude_labels)}): {best}")
    return 0


def cmd_average(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from .model import StudentEncoder, average_with_base, load_tokenizer
    from .train import load_config, prepare_data, save_calibrated

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = load_config(args.config, args.set)
    encoder = StudentEncoder.from_pretrained(args.checkpoint)
    mixed = average_with_base(encoder, args.weight)
    d = prepare_data(cfg)
    previous = encoder.meta.get("training") or {}
    run = {k: previous.get(k) for k in ("selected_epoch", "history", "seconds")}
    run["weight_averaging"] = {"weight": args.weight, "of": str(args.checkpoint), "with": "base"}
    target = save_calibrated(mixed, Path(args.out), d, cfg, run, load_tokenizer(args.checkpoint))
    print(f"wrote {target}")
    return 0
