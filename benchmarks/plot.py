"""PNG plot of a report: batch-1 latency against token length per backend (needs the `plot` extra)."""

from __future__ import annotations

from pathlib import Path

from .report import LABELS


def plot_latency(report: dict, out: str | Path) -> Path:
    """One panel per thread count: model-only p50 (solid) and end-to-end p50 (dashed) per backend."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeError("the plot needs matplotlib: pip install 'emolite[plot]'") from exc
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
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
