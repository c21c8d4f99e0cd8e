"""PNG plots of a report (need the `plot` extra): batch-1 latency against token length per backend, and
quality against latency across the installed models."""

from __future__ import annotations

from pathlib import Path

from .report import LABELS

X_LABEL = "e2e median ms (1 thread)"
Y_LABEL = "GoEmotions-28 macro-F1"


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeError("the plot needs matplotlib: pip install 'emolite[plot]'") from exc
    return matplotlib, plt


def quality_plot_path(latency_plot: str | Path) -> Path:
    """Where `--plot OUT.png` puts the quality-vs-latency plot: OUT-quality.png beside it."""
    path = Path(latency_plot)
    return path.with_name(f"{path.stem}-quality{path.suffix or '.png'}")


def plot_quality(report: dict, out: str | Path) -> Path:
    """Quality against latency, one point per installed model and int8 backend: x the batch-1 e2e median
    at 1 thread on the bench's texts, y GoEmotions-28 macro-F1. Each model's fastest backend (its figure)
    is the filled marker; recorded (not measured) quality is drawn hollow and labelled so."""
    _, plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    plotted = 0
    for i, e in enumerate(x for x in report.get("models") or [] if x.get("available")):
        color = f"C{i}"
        recorded = (e.get("quality") or {}).get("source") == "recorded"
        for r in e["backends"]:
            if not r.get("available") or r["e2e_texts"]["p50"] is None:
                continue
            f1 = r.get("macro_f1")
            if f1 is None and recorded and r["backend"] == e.get("fastest_backend"):
                f1 = e["quality"]["macro_f1"]
            if f1 is None:
                continue
            fastest = r["backend"] == e.get("fastest_backend")
            x = r["e2e_texts"]["p50"]
            ax.scatter(
                [x],
                [f1],
                s=70 if fastest else 35,
                facecolors="none" if recorded else (color if fastest else "white"),
                edgecolors=color,
                zorder=3,
            )
            label = f"{e['name']} ({r['backend']})" + (" recorded F1" if recorded else "")
            ax.annotate(label, (x, f1), textcoords="offset points", xytext=(6, 4), fontsize=8)
            plotted += 1
    q = report.get("quality") or {}
    subtitle = (
        f"F1 on {q['texts']} of {q['available']} GoEmotions test texts"
        if q.get("source") == "measured"
        else ""
    )
    if q.get("capped"):
        subtitle += " (capped)"
    emulated = report["system"]["emulation"]["emulated"]
    ax.set(
        xlabel=X_LABEL,
        ylabel=Y_LABEL,
        title=f"Installed models: quality vs latency{' [EMULATED]' if emulated else ''}",
    )
    if not plotted:
        ax.text(0.5, 0.5, "no model measured", ha="center", va="center", transform=ax.transAxes)
    ax.margins(x=0.25, y=0.15)
    ax.set_xlim(left=0)  # speed-ups read as distances from the origin
    ax.grid(True, alpha=0.3)
    ax.text(
        0.01,
        0.01,
        "filled: each model's fastest int8 backend; hollow: recorded (manifest) F1",
        transform=ax.transAxes,
        fontsize=7,
        alpha=0.7,
    )
    fig.suptitle(f"{report['system']['cpu_model']}; {subtitle}", fontsize=8)
    fig.tight_layout()
    return _save(fig, plt, out)


def _save(fig, plt, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_latency(report: dict, out: str | Path) -> Path:
    """One panel per thread count: model-only p50 (solid) and end-to-end p50 (dashed) per backend."""
    matplotlib, plt = _pyplot()
    rows = [r for r in report["subjects"] if r.get("available")]
    threads = sorted({r["threads"] for r in rows})
    fig, axes = plt.subplots(1, max(len(threads), 1), figsize=(5.5 * max(len(threads), 1), 4), squeeze=False)
    for ax, t in zip(axes[0], threads):
        for i, r in enumerate(x for x in rows if x["threads"] == t):
            lengths = [c["length"] for c in r["latency"]]
            color = f"C{i}"
            label = LABELS.get(r["name"], r["name"])
            ax.plot(
                lengths, [c["model"]["p50"] for c in r["latency"]], "o-", color=color, label=f"{label} model"
            )
            ax.plot(
                lengths, [c["e2e"]["p50"] for c in r["latency"]], "s--", color=color, label=f"{label} e2e"
            )
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="tokens",
            ylabel="p50 latency (ms), batch 1",
            title=f"{t} thread(s)" + (" [EMULATED]" if report["system"]["emulation"]["emulated"] else ""),
        )
        ticks = [c["length"] for c in rows[0]["latency"]] if rows else []
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{report['system']['cpu_model']} - {report['bundle']['name']}", fontsize=9)
    fig.tight_layout()
    return _save(fig, plt, out)
