"""The `emolite` command. The SDK's own commands live here; other packages add theirs through the
entry-point group `emolite.commands` (a module with `register(subparsers)`, which imports nothing heavy until
its command runs, and optionally `EXTRA`, the pip extra it needs, and `REQUIRES`, the modules of that extra)."""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import sys
from collections.abc import Sequence

from .errors import EmoliteError, InvalidInputError, UnknownLabelSetError

COMMAND_GROUP = "emolite.commands"
BUNDLE_HELP = "bundle directory or archive, or an installed model's name ('emolite models'; default: shipped)"


def _labels_arg(value: str | None, clf, multi_label: bool | None) -> tuple[object, bool | None]:
    """--labels: a label-set name (case-insensitive), or comma-separated words, or one word.

    One word that names no set is one custom label, unless it looks like a set name (a typo is an error).
    One custom label is scored multi-label unless told otherwise: a one-label softmax is always 1.0.
    """
    if value is None:
        return None, multi_label
    words = [w.strip() for w in value.split(",") if w.strip()]
    if not words:
        raise InvalidInputError(f"--labels {value!r} holds no label; give a set name or label words")
    if "," not in value:
        if clf.bundle.label_set_name(value) is not None or value.strip().casefold() in _saved_names():
            return value.strip(), multi_label
        known = clf.bundle.label_set_names() + sorted(_saved_names())
        close = difflib.get_close_matches(value.strip().casefold(), [k.casefold() for k in known], n=1, cutoff=0.75)
        if close:
            raise UnknownLabelSetError(
                f"unknown label set '{value}'; did you mean '{close[0]}'? (sets: {', '.join(known)}; "
                f"for one custom label write '{value},')"
            )
    if len(words) == 1 and multi_label is None:
        print(
            f"emolite: note: one custom label '{words[0]}' is scored multi-label (sigmoid): a one-label softmax "
            "is always 1.0. Give more labels for a choice between them.",
            file=sys.stderr,
        )
        multi_label = True
    elif len(words) == 1 and multi_label is False:
        print("emolite: warning: a one-label softmax is always 1.0", file=sys.stderr)
    return words, multi_label


def _saved_names() -> set[str]:
    from . import user_sets

    return {n.casefold() for n in user_sets.load_all()}


def _stdin_lines() -> list[str]:
    """Every stdin line, CR/LF stripped; blank lines keep their place (they become error records)."""
    lines = [line.rstrip("\r\n") for line in sys.stdin]
    if not lines:
        raise InvalidInputError("no input on stdin: pipe one text per line, or give the texts as arguments")
    return lines


def cmd_predict(args: argparse.Namespace) -> int:
    import emolite

    if "-" in args.texts and len(args.texts) > 1:
        raise InvalidInputError("'-' reads the texts from stdin; it cannot be mixed with TEXT arguments")
    clf = emolite.load(args.bundle, backend=args.backend, threads=args.threads, batch_size=args.batch_size)
    labels, multi = _labels_arg(args.labels, clf, args.multi_label)
    texts = _stdin_lines() if args.texts == ["-"] else list(args.texts)
    valid = [i for i, t in enumerate(texts) if t.strip()]
    preds = clf.predict([texts[i] for i in valid], labels=labels, top_k=args.top_k, multi_label=multi,
                        threshold=args.threshold)
    by_line = dict(zip(valid, preds))
    for i in range(len(texts)):
        pred = by_line.get(i)
        if pred is None:
            message = "empty or whitespace only; there is nothing to classify"
            if args.json:
                print(json.dumps({"line": i + 1, "error": message}))
            else:
                print(f"(line {i + 1}: {message})")
        elif args.json:
            print(json.dumps({"line": i + 1, **pred.to_dict(), "truncated": pred.truncated}, ensure_ascii=False))
        else:
            _print_prediction(pred, args.top_k or 3)
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from .stream import cmd_stream as run

    return run(args, _labels_arg)


def _print_prediction(pred, top_k: int) -> None:
    text = pred.sequence if len(pred.sequence) <= 70 else pred.sequence[:67] + "..."
    print(text + ("  [truncated]" if pred.truncated else ""))
    for label, score in list(zip(pred.labels, pred.scores))[:top_k]:
        mark = "*" if label in pred.predicted else " "
        bar = "#" * round(score * 30)
        print(f"  {mark} {label:<16} {score:6.3f}  {bar}")


def cmd_labels(args: argparse.Namespace) -> int:
    from .bundle import Bundle
    from .registry import resolve

    bundle = Bundle.open(resolve(args.bundle), verify=False)
    for name, meta in bundle.manifest["label_sets"].items():
        thresholds = dict(zip(meta["labels"], meta["thresholds"])) if meta["multi_label"] else None
        if args.json:
            row = {"name": name, "labels": meta["labels"], "multi_label": meta["multi_label"]}
            print(json.dumps({**row, "thresholds": thresholds} if args.thresholds else row))
            continue
        kind = "multi-label" if meta["multi_label"] else "single-label"
        default = " (default)" if name == bundle.default_label_set else ""
        print(f"{name}{default}: {kind}, {len(meta['labels'])} labels")
        if args.thresholds and thresholds:
            print("  " + ", ".join(f"{label} >= {value:.3f}" for label, value in thresholds.items()))
        elif args.thresholds:
            print("  " + ", ".join(meta["labels"]) + "  (single-label: the top label, no thresholds)")
        else:
            print("  " + ", ".join(meta["labels"]))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .bundle import Bundle, BundleIntegrityError, UnsupportedBundleVersionError
    from .registry import resolve

    try:
        bundle = Bundle.open(resolve(args.bundle), verify=False)  # proves manifest.json against its digest
    except (BundleIntegrityError, UnsupportedBundleVersionError) as exc:
        print(json.dumps({"verification": f"FAILED: {exc}"}) if args.json else f"verified    FAILED: {exc}")
        return 1
    m = bundle.manifest
    status = "ok"
    try:
        bundle.verify_files()
    except EmoliteError as exc:
        status = f"FAILED: {exc}"
    info = {
        "path": str(bundle.root),
        "name": m.get("name"),
        "format_version": m["format_version"],
        "encoder": m["encoder"],
        "formats": {k: v["file"] for k, v in m["formats"].items()},
        "max_seq_length": bundle.max_seq_length,
        "sequence_buckets": m.get("sequence_buckets"),
        "scoring": {k: m["scoring"][k] for k in ("logit_scale", "logit_bias") if k in m["scoring"]},
        "label_sets": bundle.label_set_names(),
        "files": {k: v["bytes"] for k, v in m["files"].items()},
        "total_bytes": sum(v["bytes"] for v in m["files"].values()),
        "manifest_sha256": bundle.manifest_sha256,
        "verification": status,
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        print(f"bundle      {info['path']}")
        print(f"name        {info['name']} (format v{info['format_version']})")
        enc = info["encoder"]
        print(f"encoder     {enc.get('name')} from {enc.get('base_model')}, {enc.get('parameters', 0) / 1e6:.1f}M "
              f"parameters, dim {enc.get('embedding_dim')}")
        print(f"formats     {', '.join(f'{k} ({v})' for k, v in info['formats'].items())}")
        print(f"max length  {info['max_seq_length']} tokens, buckets {info['sequence_buckets']}")
        print(f"label sets  {', '.join(info['label_sets'])}")
        for name, size in info["files"].items():
            print(f"  {size / 1e6:9.2f} MB  {name}")
        print(f"  {info['total_bytes'] / 1e6:9.2f} MB  total")
        print(f"manifest    sha256 {info['manifest_sha256']} (matches manifest.sha256)")
        print(f"verified    {status}" + (" (manifest digest, then size and sha256 of every file)" if status == "ok" else ""))
    return 0 if status == "ok" else 1


def model_summary(model) -> dict:
    """One installed model (a `registry.ModelInfo`) as `emolite models` shows it; a broken one has `error`."""
    from .bundle import Bundle

    row = {"name": model.name, "distribution": model.distribution, "version": model.version,
           "package": model.package, "path": None if model.path is None else str(model.path),
           "formats": None, "size_mb": None, "default_label_set": None, "embedding_dim": None, "layers": None,
           "error": model.error}
    if model.error is not None:
        return row
    try:
        manifest = Bundle.open(model.path, verify=False).manifest  # proves manifest.json against its digest
    except EmoliteError as exc:
        return {**row, "error": str(exc)}
    encoder = manifest["encoder"]
    layers = next((encoder[k] for k in ("num_layers", "layers", "num_hidden_layers") if k in encoder), None)
    size = sum(p.stat().st_size for p in model.path.rglob("*") if p.is_file())
    return {**row, "formats": sorted(manifest["formats"]), "size_mb": round(size / 1e6, 1), "layers": layers,
            "default_label_set": manifest.get("default_label_set"),
            "embedding_dim": encoder.get("embedding_dim")}


def cmd_models(args: argparse.Namespace) -> int:
    from . import models
    from .bundle import Bundle

    rows = []
    for model in models():
        row = model_summary(model)
        if args.check and row["error"] is None:
            try:
                Bundle.open(model.path, verify=True)  # size and sha256 of every file
            except EmoliteError as exc:
                row["error"] = str(exc)
        rows.append(row)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
            continue
        dist = f"{row['distribution']}=={row['version']}" if row["distribution"] else "(no distribution)"
        if row["error"] is not None:
            print(f"{row['name']:<14} {dist:<26} ERROR: {row['error']}")
            continue
        layers = "" if row["layers"] is None else f", {row['layers']} layers"
        print(f"{row['name']:<14} {dist:<26} {row['size_mb']:7.1f} MB  {','.join(row['formats']):<12} "
              f"labels {row['default_label_set']}, dim {row['embedding_dim']}{layers}")
        print(f"{'':<14} {row['path']}")
    if not rows and not args.json:
        print("no models installed (pip install ./models/<name>)")
    return 1 if args.check and any(r["error"] is not None for r in rows) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emolite", description="On-device zero-shot text emotion recognition.")
    parser.add_argument("--version", action="version", version=f"emolite {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("predict", help="classify texts", description="Classify texts ('-' reads lines from stdin).")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    _decision_options(p)
    p.add_argument("--batch-size", type=int, default=None,
                   help="texts per inference call (default: 1 on int8 ONNX, whose output depends on the batch)")
    p.add_argument("--json", action="store_true", help="JSON lines output, one record per input line")
    _bundle_options(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("stream", help="classify lines as they arrive (stdin or a file, --follow like tail -f)",
                       description="Classify text lines as they arrive: from stdin, or from FILE; with --follow, "
                       "keep reading what is appended to FILE (a chat log, a transcript).")
    p.add_argument("file", nargs="?", default=None, help="text file ('-' or nothing: stdin)")
    p.add_argument("--follow", action="store_true", help="keep reading lines appended to FILE")
    _decision_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    _bundle_options(p)
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("labels", help="list the bundle's label sets")
    p.add_argument("--bundle", default=None, help=BUNDLE_HELP)
    p.add_argument("--thresholds", action="store_true", help="show each label's decision threshold")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_labels)

    p = sub.add_parser("info", help="bundle summary, sizes and verification")
    p.add_argument("bundle", nargs="?", default=None, help=BUNDLE_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("models", help="list the installed models (packages registered in emolite.bundles)",
                       description="List the models installed as packages (pip install ./models/NAME); "
                       "each NAME can be given wherever a bundle path is asked for.")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.add_argument("--check", action="store_true",
                   help="also verify every bundle file; exit 1 if a model is broken or fails verification")
    p.set_defaults(func=cmd_models)

    for module in _command_modules():
        _register(sub, module)
    return parser


def _command_modules() -> list:
    from importlib.metadata import entry_points

    found = entry_points()
    group = found.select(group=COMMAND_GROUP) if hasattr(found, "select") else found.get(COMMAND_GROUP, [])
    modules = []
    for entry in sorted(group, key=lambda e: e.name):
        try:
            modules.append(entry.load())
        except ImportError:  # a package whose own module is gone: its commands are simply absent
            continue
    return modules


class _ExtraSubparsers:
    """Adds a family's commands, marked with the pip extra they need (and noted in --help when it is missing)."""

    def __init__(self, sub, extra: str | None, missing: list[str]):
        self._sub, self._extra, self._missing = sub, extra, missing

    def add_parser(self, name: str, **kwargs):
        if self._missing and kwargs.get("help"):
            kwargs["help"] += f" [needs pip install 'emolite[{self._extra}]']"
        parser = self._sub.add_parser(name, **kwargs)
        parser.set_defaults(_extra=self._extra)
        return parser


def _register(sub, module) -> None:
    extra = getattr(module, "EXTRA", None)
    missing = [m for m in getattr(module, "REQUIRES", ()) if importlib.util.find_spec(m) is None]
    module.register(_ExtraSubparsers(sub, extra, missing))


def _missing_extra(exc: ModuleNotFoundError, args: argparse.Namespace) -> str | None:
    """The message for a command whose pip extra is not installed (None: a real bug, to surface)."""
    extra = getattr(args, "_extra", None)
    top = (exc.name or "").split(".")[0]
    if extra is None or not top or top == "emolite":
        return None
    return f"'emolite {args.command}' needs the {extra} extra ({exc}): pip install 'emolite[{extra}]'"


def _decision_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", help="label-set name (see 'emolite labels') or comma-separated label words")
    p.add_argument("--top-k", type=int, default=None, help="show only the K best labels (also in --json)")
    p.add_argument("--threshold", type=float, default=None,
                   help="one decision threshold for every label of a multi-label set (default: the set's own)")
    p.add_argument("--multi-label", action=argparse.BooleanOptionalAction, default=None,
                   help="decide each label on its own (sigmoid) or one of them (softmax); default: the set's")


def _bundle_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bundle", default=None, help=BUNDLE_HELP)
    p.add_argument("--backend", default="auto", help="auto, onnx or tflite")
    p.add_argument("--threads", type=int, default=None, help="runtime threads (default: runtime's choice)")


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EmoliteError as exc:
        print(f"emolite: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        message = _missing_extra(exc, args)
        if message is None:
            raise
        print(f"emolite: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`emolite labels | head`): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
