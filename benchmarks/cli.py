"""`emolite bench`: latency, throughput, memory, size and cost of the SDK and its peers, speed and quality
of the installed models; `--compare`; `--arm-check`. Nothing heavy is imported until the command runs."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import BenchConfig

log = logging.getLogger("emolite.benchmarks")


def _ints(value: str) -> tuple[int, ...]:
    try:
        items = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{value}'") from exc
    if not items or min(items) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got '{value}'")
    return items


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _models(value: str) -> tuple[str, ...]:
    return () if value.strip().lower() == "none" else _names(value)


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number of texts, got '{value}'") from exc
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (all) or more, got '{value}'")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    """Add `emolite bench` to the CLI's subcommands."""
    p = sub.add_parser(
        "bench",
        help="benchmark latency, throughput, memory, size and cost (docs/benchmarks.md)",
        description="Benchmark the SDK's backends and their peers (PyTorch fp32, ONNX fp32, "
        "sentence-transformers) on this machine, and the installed models' speed and quality. "
        "Prints Markdown tables; --json writes the full report (schema: benchmarks/schema.json).",
    )
    p.add_argument(
        "bundle", nargs="?", default=None, help="bundle directory or archive (default: the shipped one)"
    )
    p.add_argument(
        "--backends",
        type=_names,
        default=None,
        help="comma-separated subjects: onnx, tflite, onnx-fp32, pytorch-fp32, sentence-transformers "
        "(default: all)",
    )
    p.add_argument(
        "--models",
        type=_models,
        default=None,
        help="installed models to compare, speed and quality: comma-separated names or bundle paths, or "
        "'none' (default: every installed model, emolite.registry)",
    )
    p.add_argument(
        "--quality-texts",
        type=_count,
        default=None,
        metavar="N",
        help="GoEmotions test texts scored per model and backend (default: all 5,427; --quick: 500)",
    )
    p.add_argument("--threads", type=_ints, default=None, help="thread counts, e.g. 1,2 (default: 1,2)")
    p.add_argument("--lengths", type=_ints, default=None, help="token lengths, e.g. 16,32,64,128")
    p.add_argument("--batch", type=_ints, default=None, help="throughput batch sizes, e.g. 1,8,32")
    p.add_argument(
        "--texts",
        default=None,
        help="text file, one text per line (or a GoEmotions split, ROOT/goemotions/SPLIT.tsv); "
        "default: GoEmotions test from the shared data ($EMOLITE_DATA or ../shared/data), else the bundled sample",
    )
    p.add_argument("--labels", default=None, help="label set scored against (default: the bundle's)")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="fp32 encoder checkpoint of the peers and of the ARM check's fp32 reference (default: base; "
        "the ARM check uses base only for a bundle of the base encoder)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="short run: 1 thread, lengths 16,64, short timings, quality on 500 texts",
    )
    p.add_argument("--no-processes", action="store_true", help="skip the fresh-process cold-start/RSS runs")
    p.add_argument("--json", default=None, metavar="OUT", help="write the JSON report here")
    p.add_argument("--markdown", default=None, metavar="OUT", help="write the Markdown tables here")
    p.add_argument(
        "--targets",
        action="store_true",
        help="also show the project's own targets (the JSON report always has them)",
    )
    p.add_argument(
        "--plot",
        default=None,
        metavar="OUT.png",
        help="latency-vs-length plot, and the installed models' quality-vs-latency plot in OUT-quality.png "
        "(needs matplotlib)",
    )
    p.add_argument("--compare", nargs=2, default=None, metavar=("A.json", "B.json"), help="print B/A ratios")
    p.add_argument("--arm-check", action="store_true", help="run the aarch64 qemu check (docs/benchmarks.md)")
    p.add_argument(
        "--arm-cpus", type=_names, default=("cortex-a72", "cortex-a76"), help="emulated CPU models"
    )
    p.add_argument(
        "--arm-cache",
        default=None,
        help="where the aarch64 environment is built (default: ~/.cache/emolite-arm)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark, `--compare` or `--arm-check`; the exit code is the command's."""
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s", stream=sys.stderr
    )
    if args.compare:
        return _compare(*args.compare)
    if args.arm_check:
        from .armcheck import main as arm_main

        return arm_main(
            cpus=args.arm_cpus,
            cache=args.arm_cache,
            bundle=args.bundle,
            out=args.json,
            checkpoint=args.checkpoint,
        )
    return _bench(args)


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """Defaults, then the --quick profile, then every option given explicitly."""
    from .runner import BenchConfig, quick

    config = BenchConfig(
        bundle=args.bundle,
        texts_file=args.texts,
        checkpoint=args.checkpoint or "base",
        label_set=args.labels,
        processes=not args.no_processes,
    )
    if args.quick:
        config = quick(config)
    given = {
        "subjects": args.backends,
        "threads": args.threads,
        "lengths": args.lengths,
        "batches": args.batch,
        "models": args.models,
        "quality_texts": args.quality_texts,
    }
    from dataclasses import replace

    return replace(config, **{k: v for k, v in given.items() if v is not None})


def _bench(args: argparse.Namespace) -> int:
    from . import report as rep
    from . import schema
    from .runner import run
    from .subjects import ALL_SUBJECTS

    config = config_from_args(args)
    unknown = [s for s in config.subjects if s not in ALL_SUBJECTS]
    if unknown:
        print(
            f"emolite: error: unknown backend(s) {unknown}; choose from {', '.join(ALL_SUBJECTS)}",
            file=sys.stderr,
        )
        return 2
    result = run(config)
    result["command"] = (
        "emolite " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if sys.argv[1:2] == ["bench"]
        else "emolite bench"
    )
    if schema.available():
        problems = schema.validate(result)
        if problems:
            log.warning("report does not match its schema: %s", "; ".join(problems[:5]))
    else:
        log.info("jsonschema is not installed: the report is written unvalidated")
    text = rep.markdown(result, targets=args.targets)
    print(text)
    if args.json:
        rep.write_json(result, args.json)
    if args.markdown:
        from pathlib import Path

        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.plot:
        from .plot import plot_latency, plot_quality, quality_plot_path

        plot_latency(result, args.plot)
        log.info("wrote %s and %s", args.plot, plot_quality(result, quality_plot_path(args.plot)))
    return 0


def _compare(a_path: str, b_path: str) -> int:
    from . import report as rep

    rows = rep.compare(rep.read_json(a_path), rep.read_json(b_path))
    print(rep.compare_markdown(rows, a_path, b_path))
    return 0
