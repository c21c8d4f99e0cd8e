"""The `emolite` command. The SDK's own commands live here; other packages add theirs through the
entry-point group `emolite.commands` (a module with `register(subparsers)`, which imports nothing heavy until
its command runs, and optionally `EXTRA`, the pip extra it needs, and `REQUIRES`, the modules of that extra)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence

from .errors import EmoliteError

COMMAND_GROUP = "emolite.commands"


def _parse_labels(value: str | None):
    """'ekman' names a label set; 'a,b,c' is a list of label words."""
    if value is None:
        return None
    if "," in value:
        return [w.strip() for w in value.split(",") if w.strip()]
    return value


def _read_texts(args_texts: Sequence[str]) -> list[str]:
    if list(args_texts) == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin if line.strip()]
    return list(args_texts)


def cmd_predict(args: argparse.Namespace) -> int:
    import emolite

    clf = emolite.load(args.bundle, backend=args.backend, threads=args.threads)
    texts = _read_texts(args.texts)
    preds = clf.predict(texts, labels=_parse_labels(args.labels), top_k=args.top_k)
    for pred in preds:
        if args.json:
            print(json.dumps({**pred.to_dict(), "truncated": pred.truncated}, ensure_ascii=False))
        else:
            _print_prediction(pred, args.top_k or 3)
    return 0


def _print_prediction(pred, top_k: int) -> None:
    text = pred.sequence if len(pred.sequence) <= 70 else pred.sequence[:67] + "..."
    print(text + ("  [truncated]" if pred.truncated else ""))
    for label, score in list(zip(pred.labels, pred.scores))[:top_k]:
        mark = "*" if label in pred.predicted else " "
        bar = "#" * round(score * 30)
        print(f"  {mark} {label:<16} {score:6.3f}  {bar}")


def cmd_labels(args: argparse.Namespace) -> int:
    from .bundle import Bundle

    bundle = Bundle.open(args.bundle, verify=False)
    for name, meta in bundle.manifest["label_sets"].items():
        if args.json:
            print(json.dumps({"name": name, "labels": meta["labels"], "multi_label": meta["multi_label"]}))
        else:
            kind = "multi-label" if meta["multi_label"] else "single-label"
            default = " (default)" if name == bundle.default_label_set else ""
            print(f"{name}{default}: {kind}, {len(meta['labels'])} labels")
            print("  " + ", ".join(meta["labels"]))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .bundle import Bundle, BundleIntegrityError, UnsupportedBundleVersionError

    try:
        bundle = Bundle.open(args.bundle, verify=False)  # proves manifest.json against manifest.sha256
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emolite", description="On-device zero-shot text emotion recognition.")
    parser.add_argument("--version", action="version", version=f"emolite {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("predict", help="classify texts", description="Classify texts ('-' reads lines from stdin).")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--labels", help="label-set name (see 'emolite labels') or comma-separated label words")
    p.add_argument("--top-k", type=int, default=None, help="show only the K best labels")
    p.add_argument("--json", action="store_true", help="JSON lines output")
    _bundle_options(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("labels", help="list the bundle's label sets")
    p.add_argument("--bundle", default=None, help="bundle directory or archive (default: the shipped bundle)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_labels)

    p = sub.add_parser("info", help="bundle summary, sizes and verification")
    p.add_argument("bundle", nargs="?", default=None, help="bundle directory or archive (default: shipped)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

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


def _bundle_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bundle", default=None, help="bundle directory or archive (default: the shipped bundle)")
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


if __name__ == "__main__":
    sys.exit(main())
