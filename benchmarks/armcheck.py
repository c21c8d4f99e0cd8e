"""The ARM check: the SDK with its aarch64 wheels under qemu-user, on emulated Cortex-A72 (~Raspberry Pi 4)
and Cortex-A76 (~Pi 5), against the same SDK on this x86 host.

Verdict (`verdict`): passed when every backend the bundle has ran on x86 and on every emulated CPU (the
guest loads the bundle and passes the SDK's own golden-vector check, else it fails at load) and, per CPU and
backend,
  (a) every label score of every probe text is within BOUNDARY_COSINE of x86's (in cosine units: logit gap /
      the set's scale), and the SDK's decisions are x86's on every probe text (the same top label and the same
      decided label set) except decisions x86 makes within BOUNDARY_COSINE of their boundary (a threshold, or
      the runner-up for the top label): such a decision may change side by a move the first half allows, and
      is listed in the verdict, not failed;
  (b) on every item of every fp32 reference, |cos(ARM, fp32) - cos(x86, fp32)| <= FP32_TOLERANCE (0.005).
The fp32 references (`fp32_label_rows`, `fp32_embeddings`): the bundle's default label set, whose rows the
export computed with the fp32 encoder (each row is the normalised mean of its prompts' fp32 embeddings; both
sides re-embed the prompts with the int8 backend and average the same way), always, since every bundle carries
it; and, when the fp32 checkpoint is known (`--checkpoint`, or "base" for a bundle of the base encoder), the
fp32 encoder's embeddings of the probe texts. With no fp32 reference at all the check fails and says so.
Cosine to x86 is reported, not gated: dynamic int8 rounds activations at run time and ARM's float kernels
(GELU, softmax, layer norm) flip a few roundings, so ARM and x86 can differ by as much as two int8 runs of a
text in different batches while both stay equally close to fp32; "identical to x86" (cosine >= 0.999 and the
same decisions, the golden-vector bar) is reported beside the verdict.

Cost: guest instructions per inference, counted by a QEMU TCG plugin: deterministic, a regression metric.
From them the check derives an *estimate* of Raspberry Pi latency (`pi_estimate`: instructions / (IPC x
clock), constants and their sources under "Raspberry Pi latency estimate" below). It is not a measurement,
and emulated wall time says nothing about an ARM core's speed.

Environment (cached, default ~/.cache/emolite-arm): a Debian arm64 root from debootstrap (arm/setup_root.sh),
aarch64 wheels from PyPI (`pip install --target --platform manylinux_2_N_aarch64 ...`), the insn_marks plugin
(arm/build_plugin.sh). Needs root for `unshare -m` (a fake ARM /proc/cpuinfo is bind-mounted, because
onnxruntime crashes on the host's x86 one). Never QEMU_CPU=max: its SVE path gave wrong int8 results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .report import write_json

log = logging.getLogger(__name__)

ARM_DIR = Path(__file__).with_name("arm")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path.home() / ".cache" / "emolite-arm"
CPUS = ("cortex-a72", "cortex-a76")
GUEST_PYTHON = "usr/bin/python3.11"
PLATFORMS = [f"manylinux_2_{n}_aarch64" for n in range(17, 37)] + ["manylinux2014_aarch64", "linux_aarch64"]
# Runtimes installed in the guest at the host's versions, so that a difference can only come from the CPU.
GUEST_PACKAGES = ("numpy", "tokenizers", "onnxruntime", "ai-edge-litert")
IDENTICAL_COSINE = 0.999  # the golden-vector bar: "the same result as x86", reported, not gated
FP32_TOLERANCE = 0.005  # the verdict: |cos(ARM, fp32) - cos(x86, fp32)| allowed per text and label row
# The verdict's boundary band, in cosine units (a label's score is its cosine to the label row): every label
# score of every probe text within this of x86's, so that a decision can change side only where x86's score is
# within this of its boundary; those decisions are listed, not failed. Dynamic int8 rounds activations at run
# time, and ARM's float kernels round a few of them differently: a rule of exact agreement on the 1,204
# decisions of 43 texts x 28 labels is a rule on numeric noise at a threshold (it failed on a margin under
# 0.0001). Measured on the shipped bundle (2026-12-03, VNNI x86 reference): the largest score gap 0.0085 of
# 1,204 per CPU and backend; the band is about twice that, since another x86 reference CPU (AVX2-only and
# VNNI int8 kernels differ) moves x86's side too. A wrong kernel moves scores by tenths. 0.02 is 0.22 logit
# at the default set's scale (10.8), about 0.04 in probability near its thresholds.
BOUNDARY_COSINE = 0.02
VERDICT_RULE = (
    "passed iff every backend ran on x86 and every emulated CPU and, per CPU and backend, (a) every label score "
    f"of every probe text within {BOUNDARY_COSINE} of x86's (in cosine units: logit gap / scale) and the SDK's "
    "decisions (top label and decided label set) equal x86's on every probe text, except decisions x86 makes "
    f"within {BOUNDARY_COSINE} of their boundary (listed), and (b) |cos(ARM, fp32) - cos(x86, fp32)| <= "
    f"{FP32_TOLERANCE} on every item of every fp32 reference (the bundle's fp32 label rows; the probe texts when "
    "the fp32 checkpoint is known); cosine to x86 is reported, not gated"
)
REGIONS = ("e2e", "model_L16", "model_L64")
PROBE_PER_CATEGORY = 4

# -- Raspberry Pi latency estimate: ms = guest instructions / (IPC x clock). An estimate, NOT a measurement. --
# IPC of the Cortex-A72 is calibrated on the one published figure for this encoder on a Pi: all-MiniLM-L6-v2
# with ONNX Runtime on a Raspberry Pi 4, about 34 ms per embedding (shodh-memory.com, "Running Embedding
# Models on Edge Devices: ONNX, Quantization, and Reality", 2026-01-15; Rust `ort`, 33 ms of it model
# inference). A weak anchor: a vendor's blog post with round figures that states neither the thread count, the
# clock, the sentence length nor (unambiguously) the precision; read here as fp32, one thread, 1.8 GHz.
ANCHOR_MS = 34.0
# This check's count for the same encoder in fp32 ONNX Runtime: predict() of the 17-piece region text on
# emulated Cortex-A72 (docs/benchmarks.md, ARM check table, row "fp32 ONNX (for scale)": 67 M).
ANCHOR_INSTRUCTIONS = 67e6
ANCHOR_CLOCK_GHZ = 1.8
A72_IPC = ANCHOR_INSTRUCTIONS / (ANCHOR_MS * 1e-3 * ANCHOR_CLOCK_GHZ * 1e9)  # 1.09
# Cortex-A76 instructions per clock relative to the A72: 1.5, the low end of Raspberry Pi's launch claim of
# 2-3x the CPU performance of a Raspberry Pi 4 (Raspberry Pi 5 announcement, 2023-09-28) divided by the clock
# ratio 2.4 / 1.8 GHz (1.25 if the claim was against a 1.5 GHz Pi 4; Arm's own per-clock claims for the A76
# are against the A75, not the A72). The counts already carry the A76's int8 dot-product kernels (fewer
# instructions), so this ratio is for the same code.
A76_OVER_A72_IPC = 1.5
# Clocks: Pi 4 boards with the C0-stepping BCM2711 (sold from mid-2021) run at 1.8 GHz with current firmware,
# older B0-stepping boards at 1.5 GHz (both reported); the Pi 5's BCM2712 at 2.4 GHz.
PI_CORES = {
    "cortex-a72": {"device": "Raspberry Pi 4", "ipc": A72_IPC, "clocks_ghz": (1.8, 1.5)},
    "cortex-a76": {"device": "Raspberry Pi 5", "ipc": A72_IPC * A76_OVER_A72_IPC, "clocks_ghz": (2.4,)},
}
ESTIMATE_METHOD = (
    "estimate, not a measurement: ms = guest instructions per inference / (IPC x clock), one thread; "
    f"Cortex-A72 IPC {A72_IPC:.2f} calibrated so that the fp32 ONNX encoder's {ANCHOR_INSTRUCTIONS / 1e6:.0f} M "
    f"instructions take the published {ANCHOR_MS:.0f} ms of all-MiniLM-L6-v2 on a Pi 4 at "
    f"{ANCHOR_CLOCK_GHZ} GHz (a weak anchor); Cortex-A76 IPC {A72_IPC * A76_OVER_A72_IPC:.2f} "
    f"({A76_OVER_A72_IPC}x, from Raspberry Pi's 2-3x Pi 5 claim over the clock ratio); "
    "int8 kernels may run at another IPC than the fp32 code the anchor calibrates: treat as +-2x"
)


class ArmCheckError(Exception):
    """The ARM environment cannot be built or run here; the message says what is missing."""


@dataclass
class ArmEnv:
    cache: Path
    root: Path
    site: Path
    plugin: Path


# -- environment ---------------------------------------------------------------------------------
def _run(cmd: list[str], timeout: float = 1800, **kw) -> subprocess.CompletedProcess:
    log.info("$ %s", " ".join(map(str, cmd)))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        raise ArmCheckError(
            f"{cmd[0]} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-1500:]}"
        )
    return proc


def check_tools() -> None:
    missing = [
        t
        for t in ("qemu-aarch64", "debootstrap", "dpkg-deb", "gcc", "pkg-config", "unshare")
        if shutil.which(t) is None
    ]
    if missing:
        raise ArmCheckError(
            f"missing tools {missing}: apt-get install qemu-user qemu-user-static binfmt-support "
            "debootstrap gcc pkg-config libglib2.0-dev"
        )


def guest_requirements() -> list[str]:
    from .system import package_version

    return [f"{p}=={package_version(p)}" if package_version(p) else p for p in GUEST_PACKAGES]


def install_site(site: Path, requirements: list[str]) -> None:
    """aarch64 wheels for the guest's Python 3.11, then the SDK itself (pure Python) from this checkout."""
    stamp = site / ".emolite-stamp"
    key = hashlib.sha256(json.dumps([requirements, _sdk_fingerprint()]).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == key:
        return
    shutil.rmtree(site, ignore_errors=True)
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target", str(site)]
    _run(
        pip
        + [
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
            *platforms,
            *requirements,
        ]
    )
    _run(pip + ["--no-deps", "--no-build-isolation", str(REPO)])
    stamp.write_text(key)


def _sdk_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO / "sdk").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(
                f"{path.relative_to(REPO)}:{path.stat().st_size}:{path.stat().st_mtime_ns}".encode()
            )
    return digest.hexdigest()


def prepare(cache: Path) -> ArmEnv:
    """Build (or reuse) the arm64 root, the plugin and the guest site-packages in `cache`."""
    check_tools()
    cache.mkdir(parents=True, exist_ok=True)
    env = ArmEnv(cache=cache, root=cache / "root", site=cache / "site", plugin=cache / "insn_marks.so")
    _run(["sh", str(ARM_DIR / "setup_root.sh"), str(env.root)])
    source = ARM_DIR / "insn_marks.c"
    if not env.plugin.is_file() or env.plugin.stat().st_mtime < source.stat().st_mtime:
        _run(["sh", str(ARM_DIR / "build_plugin.sh"), str(cache)])
    install_site(env.site, guest_requirements())
    return env


# -- runs --------------------------------------------------------------------------------------------
def probe_texts(bundle: str | None) -> list[str]:
    """The bundle's golden texts plus a few texts of each category of the export stage's probe set."""
    from emolite.bundle import Bundle

    from .subjects import probe_categories

    texts = list(Bundle.open(bundle, verify=False).manifest["golden"]["texts"])
    for items in probe_categories().values():
        texts += items[:PROBE_PER_CATEGORY]
    return list(dict.fromkeys(texts))


def guest_command(env: ArmEnv, cpu: str, config: Path, out: Path, marks_log: Path) -> list[str]:
    """qemu-aarch64 with the plugin, inside a private mount namespace that shows an ARM /proc/cpuinfo."""
    cpuinfo = ARM_DIR / f"cpuinfo-{cpu}.txt"
    if not cpuinfo.is_file():
        raise ArmCheckError(f"no fake cpuinfo for {cpu} ({cpuinfo}); known: {', '.join(CPUS)}")
    qemu = [
        "qemu-aarch64",
        "-L",
        str(env.root),
        "-cpu",
        cpu,
        "-plugin",
        str(env.plugin),
        "-d",
        "plugin",
        "-D",
        str(marks_log),
        str(env.root / GUEST_PYTHON),
        str(ARM_DIR / "probe.py"),
        str(config),
        str(out),
    ]
    inner = f"mount --bind {_q(cpuinfo)} /proc/cpuinfo && exec " + " ".join(_q(a) for a in qemu)
    return ["unshare", "-m", "sh", "-c", inner]


def _q(arg) -> str:
    import shlex

    return shlex.quote(str(arg))


def host_reference(config: dict, workdir: Path) -> dict:
    """The same probe on this x86 host with the host's SDK: the reference every guest run must match."""
    name = f"x86-{config['backend']}"
    cfg, out = workdir / f"{name}.cfg.json", workdir / f"{name}.out.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    _run([sys.executable, str(ARM_DIR / "probe.py"), str(cfg), str(out)])
    return json.loads(out.read_text(encoding="utf-8"))


def guest_run(env: ArmEnv, cpu: str, config: dict, workdir: Path) -> dict:
    name = f"{cpu}-{config['backend']}"
    marks_log = workdir / f"{name}.marks.log"
    cmd = guest_command(env, cpu, workdir / f"{name}.cfg.json", workdir / f"{name}.out.json", marks_log)
    (workdir / f"{name}.cfg.json").write_text(json.dumps(config), encoding="utf-8")
    guest_env = {
        **os.environ,
        "PYTHONPATH": str(env.site),
        "EMOLITE_EMULATED": "1",
        "QEMU_CPU": cpu,
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    guest_env.pop("VIRTUAL_ENV", None)
    _run(["nice", "-n", "10", *cmd], env=guest_env)
    result = json.loads((workdir / f"{name}.out.json").read_text(encoding="utf-8"))
    result["marks_log"] = marks_log.read_text()
    return result


# -- parsing and comparison (pure; tested on recorded output) -------------------------------------
def parse_marks(text: str) -> tuple[list[int], int | None]:
    """Instruction counts at each 'emolite-mark i n' line, in order, and the 'emolite-total n' figure."""
    marks, total = [], None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "emolite-mark":
            if int(parts[1]) != len(marks):
                raise ValueError(f"mark {parts[1]} out of order (expected {len(marks)})")
            marks.append(int(parts[2]))
        elif len(parts) == 2 and parts[0] == "emolite-total":
            total = int(parts[1])
    return marks, total


def instruction_counts(marks: list[int], regions: dict) -> dict:
    """Per region, guest instructions per call; plus start-up (import + load + golden-vector check)."""
    expected = 2 + 2 * len(REGIONS)
    if len(marks) != expected:
        raise ValueError(f"expected {expected} instruction marks, got {len(marks)}")
    out = {"import_and_load": marks[1] - marks[0]}
    for i, name in enumerate(REGIONS):
        before, after = marks[2 + 2 * i], marks[3 + 2 * i]
        out[name] = round((after - before) / regions[name]["repeats"])
    return out


def cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def decision_mismatches(reference: dict, guest: dict, band: float = BOUNDARY_COSINE) -> list[str]:
    """The probe texts whose decision differs from x86's (another top label or another decided label set)
    other than at x86's boundary (`decision_differences`, `on_boundary`)."""
    return [row["text"] for row in decision_differences(reference, guest, band) if not row["on_boundary"]]


def _score(p: float, multi_label: bool) -> float:
    """A probability back on its logit scale (sigmoid sets: the logit; softmax sets: the log, whose
    differences are logit differences), so that a difference over the set's scale is a cosine difference."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(np.log(p / (1 - p)) if multi_label else np.log(p))


def _scale(run: dict) -> float | None:
    return run.get("logit_scale") if run.get("probabilities") else None


def decision_differences(reference: dict, guest: dict, band: float = BOUNDARY_COSINE) -> list[dict]:
    """Per differing probe text, what differs and how far from its boundary x86 was: the top labels, and each
    label decided on one side only with both sides' probabilities and its threshold (when the runs carry
    them; older recordings do not). `x86_margin_cosine`: x86's distance to the boundary in cosine units
    ((logit(p) - logit(threshold)) / scale; for the top label, the two labels' logit gap / scale). A row is
    `on_boundary` when every difference is within `band` of it on x86 (only when the runs carry the scale)."""
    rows = []
    scale, multi = _scale(reference), reference.get("multi_label", True)
    for i, text in enumerate(reference["texts"]):
        top_x, top_g = reference["top_labels"][i], guest["top_labels"][i]
        set_x, set_g = set(reference["predicted"][i]), set(guest["predicted"][i])
        if top_x == top_g and set_x == set_g:
            continue
        row = {"text": text, "x86_top": top_x, "arm_top": top_g, "labels": []}
        probs = [run.get("probabilities") for run in (reference, guest)]
        thresholds = reference.get("thresholds") or {}
        margins = []
        for label in sorted(set_x ^ set_g):
            entry = {"label": label, "decided_on": "x86" if label in set_x else "arm"}
            if all(probs) and label in thresholds:
                x86, arm = probs[0][i][label], probs[1][i][label]
                entry |= {
                    "x86": round(x86, 6),
                    "arm": round(arm, 6),
                    "threshold": round(thresholds[label], 6),
                    "x86_margin": round(x86 - thresholds[label], 6),
                }
                if scale:
                    margin = (_score(x86, True) - _score(thresholds[label], True)) / scale
                    entry["x86_margin_cosine"] = round(margin, 6)
            margins.append(entry.get("x86_margin_cosine"))
            row["labels"].append(entry)
        if top_x != top_g:
            if all(probs):
                row["x86_top_gap"] = round(probs[0][i][top_x] - probs[0][i][top_g], 6)
            if all(probs) and scale:
                gap = (_score(probs[0][i][top_x], multi) - _score(probs[0][i][top_g], multi)) / scale
                row["x86_top_gap_cosine"] = round(gap, 6)
            margins.append(row.get("x86_top_gap_cosine"))
        row["on_boundary"] = all(m is not None and abs(m) < band for m in margins)
        rows.append(row)
    return rows


def score_gaps(reference: dict, guest: dict) -> dict | None:
    """Every label score of every probe text, ARM against x86, in cosine units (logit gap / the set's scale;
    the label rows are the bundle's, so this is the gap of the text's cosine to each label), and the largest
    probability gap; None when the runs do not carry probabilities and the scale."""
    scale, multi = _scale(reference), reference.get("multi_label", True)
    if not scale or not guest.get("probabilities"):
        return None
    worst = (0.0, "", "")
    largest_p = 0.0
    for text, x86, arm in zip(reference["texts"], reference["probabilities"], guest["probabilities"]):
        for label, p in x86.items():
            gap = abs(_score(arm[label], multi) - _score(p, multi)) / scale
            largest_p = max(largest_p, abs(arm[label] - p))
            if gap > worst[0]:
                worst = (gap, text, label)
    items = len(reference["texts"]) * len(reference["probabilities"][0])
    return {
        "items": items,
        "max_abs_gap": round(worst[0], 6),
        "worst_text": worst[1],
        "worst_label": worst[2],
        "max_abs_probability_gap": round(largest_p, 6),
    }


def describe_difference(row: dict) -> str:
    """One line: the text and, per differing label, x86's and ARM's probability against the threshold."""
    parts = [
        f"{e['label']} x86 {e['x86']:.5f} / ARM {e['arm']:.5f}, threshold {e['threshold']:.5f}"
        + (f" ({e['x86_margin_cosine']:+.5f} in cosine)" if "x86_margin_cosine" in e else "")
        if "x86" in e
        else f"{e['label']} decided on {e['decided_on']} only"
        for e in row["labels"]
    ]
    if row["x86_top"] != row["arm_top"]:
        gap = f", x86's top-2 gap {row['x86_top_gap']:.5f}" if "x86_top_gap" in row else ""
        parts.insert(0, f"top label x86 {row['x86_top']!r} vs ARM {row['arm_top']!r}{gap}")
    return f"{row['text']!r} ({'; '.join(parts)})"


def fp32_gaps(fp32, x86, guest, names: list[str]) -> dict:
    """Each side's cosine to the fp32 reference, item by item, and the guest's gap to x86 (6 decimals, as
    reported): `gaps[i]` = cos(guest_i, fp32_i) - cos(x86_i, fp32_i); `worst` names the item of largest |gap|."""
    to_x86 = np.round(cosines(fp32, x86), 6)
    to_guest = np.round(cosines(fp32, guest), 6)
    gaps = np.round(to_guest - to_x86, 6)
    worst = int(np.argmax(np.abs(gaps)))
    return {
        "items": len(gaps),
        "x86_min": float(to_x86.min()),
        "guest_min": float(to_guest.min()),
        "max_abs_gap": float(abs(gaps[worst])),
        "worst": names[worst],
        "worst_x86": float(to_x86[worst]),
        "worst_guest": float(to_guest[worst]),
        "gaps": gaps.tolist(),
    }


def verdict(
    mismatches: list[str],
    fp32_checks: dict[str, dict | None],
    tolerance: float = FP32_TOLERANCE,
    differences: list[dict] | None = None,
    scores: dict | None = None,
    band: float = BOUNDARY_COSINE,
) -> tuple[bool, str]:
    """(passed, why) of one CPU and backend.

    Passed iff (a) every label score is within `band` of x86's (`scores`, from `score_gaps`; not judged on
    recordings without probabilities) and no probe text has another decision than on x86 except at x86's
    boundary (`mismatches`, from `decision_mismatches`; `differences` lists all, those at the boundary too),
    and (b) on every item of every available fp32 reference (`fp32_checks`: name -> `fp32_gaps` result, None
    when that reference is unavailable) |cos(ARM, fp32) - cos(x86, fp32)| <= `tolerance`. With no fp32
    reference at all it fails: (b) cannot be judged.

    Per item, not on the min or mean: a min or mean can hide one text that moved away from fp32 while another
    moved closer, and decisions are judged per text too. Both ways: the question is whether ARM behaves as
    x86 does, and an ARM result much closer to fp32 than x86's is as suspect as one much farther (the export
    judges its F1 delta the same way). Cosine to x86 is not part of it: int8 rounding noise moves it without
    moving the result's distance to full precision.
    """
    differences = differences or []
    if scores is not None and scores["max_abs_gap"] > band:
        return False, (
            f"a label score differs from x86's by {scores['max_abs_gap']:.6f} > {band} in cosine units "
            f"({scores['worst_label']!r} on {scores['worst_text']!r})"
        )
    if mismatches:
        off = [row for row in differences if not row["on_boundary"]]
        first = describe_difference(off[0]) if off else repr(mismatches[0])
        return False, f"decisions differ from x86 on {len(mismatches)} probe text(s), first: {first}"
    available = {name: check for name, check in fp32_checks.items() if check is not None}
    if not available:
        return False, (
            "no fp32 reference (the bundle's default label set has no fp32 rows and no fp32 checkpoint is "
            "known: pass --checkpoint): the fp32 condition cannot be judged"
        )
    for name, check in available.items():
        if check["max_abs_gap"] > tolerance:
            return False, (
                f"{name.replace('_', ' ')}: cosine to fp32 differs from x86's by {check['max_abs_gap']:.6f} > "
                f"{tolerance} on {check['worst']!r} (x86 {check['worst_x86']:.6f}, ARM {check['worst_guest']:.6f})"
            )
    gaps = "; ".join(
        f"{check['items']} {name.replace('_', ' ')} (max gap {check['max_abs_gap']:.6f})"
        for name, check in available.items()
    )
    decisions = "same decisions as x86 on every probe text"
    if differences:
        listed = "; ".join(describe_difference(row) for row in differences)
        decisions += f" but {len(differences)} within {band} of x86's boundary: {listed}"
    if scores is not None:
        decisions = (
            f"label scores within {scores['max_abs_gap']:.6f} of x86's (cosine units, {scores['items']} "
            f"scores; probability within {scores['max_abs_probability_gap']:.6f}); " + decisions
        )
    return True, f"{decisions}; cosine to fp32 within {tolerance} of x86's on {gaps}"


def compare(
    reference: dict,
    guest: dict,
    fp32=None,
    fp32_rows: dict | None = None,
    tolerance: float = FP32_TOLERANCE,
    band: float = BOUNDARY_COSINE,
) -> dict:
    """A guest run against the x86 run of the same backend: decisions, cosines, fp32 gaps and the verdict.

    `fp32`: the fp32 encoder's embeddings of the probe texts (or None). `fp32_rows`: label -> fp32 row of the
    bundle's default label set (or None); both runs then carry `label_rows` (label -> row re-embedded by the
    run's backend).
    """
    if reference["texts"] != guest["texts"]:
        raise ValueError("guest and reference ran different probe texts")
    cos = cosines(reference["embeddings"], guest["embeddings"])
    top_same = [x == y for x, y in zip(reference["top_labels"], guest["top_labels"])]
    pred_same = [sorted(x) == sorted(y) for x, y in zip(reference["predicted"], guest["predicted"])]
    differences = decision_differences(reference, guest, band)
    mismatches = decision_mismatches(reference, guest, band)
    scores = score_gaps(reference, guest)
    checks = {
        "probe_texts": None
        if fp32 is None
        else fp32_gaps(fp32, reference["embeddings"], guest["embeddings"], reference["texts"]),
        "label_rows": None if fp32_rows is None else _label_row_gaps(reference, guest, fp32_rows),
    }
    passed, reason = verdict(mismatches, checks, tolerance, differences, scores, band)
    worst = int(np.argmin(cos))
    return {
        "texts": len(cos),
        "same_decisions": not mismatches,
        "decision_mismatches": mismatches,
        "decision_differences": differences,
        "on_boundary": sum(row["on_boundary"] for row in differences),
        "label_scores": scores,
        "top_label_agreement": sum(top_same),
        "predicted_agreement": sum(pred_same),
        "cosine_to_fp32": checks,
        "min_cosine": round(float(cos.min()), 6),
        "mean_cosine": round(float(cos.mean()), 6),
        "worst_text": reference["texts"][worst],
        "below_identical": int(np.sum(cos < IDENTICAL_COSINE)),
        "cosines": [round(float(c), 6) for c in cos],
        "identical": bool(cos.min() >= IDENTICAL_COSINE and not differences),
        "below_identical_detail": _detail(reference, guest, cos, IDENTICAL_COSINE, fp32),
        "passed": passed,
        "verdict": reason,
    }


def _label_row_gaps(reference: dict, guest: dict, fp32_rows: dict) -> dict:
    labels = list(fp32_rows)
    for run in (reference, guest):
        if list(run.get("label_rows") or {}) != labels:
            raise ValueError(
                f"the {run.get('machine', '?')} run did not re-embed the fp32 label rows' labels"
            )
    rows = [[run["label_rows"][label] for label in labels] for run in (reference, guest)]
    return fp32_gaps([fp32_rows[label] for label in labels], rows[0], rows[1], labels)


def _detail(reference: dict, guest: dict, cos: np.ndarray, min_cosine: float, fp32) -> list[dict]:
    """The texts under `min_cosine` to x86, with each side's cosine to fp32 when known."""
    rows = []
    for i in np.flatnonzero(cos < min_cosine):
        row = {"text": reference["texts"][i], "cosine": round(float(cos[i]), 6)}
        if fp32 is not None:
            row["x86_to_fp32"] = round(float(cosines([fp32[i]], [reference["embeddings"][i]])[0]), 6)
            row["guest_to_fp32"] = round(float(cosines([fp32[i]], [guest["embeddings"][i]])[0]), 6)
        rows.append(row)
    return rows


def estimate_ms(instructions: float, ipc: float, clock_ghz: float) -> float:
    """Estimated milliseconds of `instructions` at `ipc` instructions per cycle and `clock_ghz`."""
    return instructions / (ipc * clock_ghz * 1e9) * 1e3


def pi_estimate(cpu: str, counts: dict) -> list[dict] | None:
    """Estimated Raspberry Pi latency per region (`REGIONS`) from one run's instructions per inference, one
    entry per clock of the Pi with that core (`PI_CORES`); None for a core that is no Pi's. An estimate."""
    core = PI_CORES.get(cpu)
    if core is None:
        return None
    return [
        {
            "device": core["device"],
            "clock_ghz": clock,
            "ipc": round(core["ipc"], 3),
            "ms": {r: round(estimate_ms(counts[r], core["ipc"], clock), 1) for r in REGIONS if r in counts},
            "kind": "estimate",
        }
        for clock in core["clocks_ghz"]
    ]


def summarize(rows: list[dict]) -> str:
    """Markdown table of the check (one row per emulated CPU and backend), then the estimated Pi latency."""
    lines = [
        "| CPU | backend | texts | max label-score gap to x86 (cosine) | same decisions as x86 "
        "| of them at x86's boundary | same top label | same predicted set "
        "| max cos-to-fp32 gap, probe texts | max cos-to-fp32 gap, label rows | min cosine to x86 (reported) "
        "| identical to x86 | insns/inference e2e | model L=16 | model L=64 | import+load insns | passed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, n = r["comparison"], r.get("instructions") or {}
        fp32 = c.get("cosine_to_fp32") or {}
        scores = c.get("label_scores")
        lines.append(
            f"| {r['cpu']} | {r['backend']} | {c['texts']} | "
            f"{'-' if scores is None else format(scores['max_abs_gap'], '.6f')} | {_yes(c['same_decisions'])} | "
            f"{c.get('on_boundary', 0)} | "
            f"{c['top_label_agreement']}/{c['texts']} | {c['predicted_agreement']}/{c['texts']} | "
            f"{_gap(fp32.get('probe_texts'))} | {_gap(fp32.get('label_rows'))} | {c['min_cosine']:.6f} | "
            f"{_yes(c['identical'])} | {_m(n.get('e2e'))} | {_m(n.get('model_L16'))} | {_m(n.get('model_L64'))} "
            f"| {_m(n.get('import_and_load'))} | {'yes' if c['passed'] else '**no**'} |"
        )
    estimates = [(r, e) for r in rows for e in (r.get("estimate") or [])]
    if estimates:
        lines += [
            "",
            "Estimated Raspberry Pi latency (" + ESTIMATE_METHOD + "):",
            "",
            "| device | CPU | clock | IPC | backend | e2e ms (estimate) | model L=16 ms | model L=64 ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r, e in estimates:
            ms = e["ms"]
            lines.append(
                f"| {e['device']} | {r['cpu']} | {e['clock_ghz']} GHz | {e['ipc']:.2f} | {r['backend']} | "
                f"{_ms(ms.get('e2e'))} | {_ms(ms.get('model_L16'))} | {_ms(ms.get('model_L64'))} |"
            )
    return "\n".join(lines)


def _yes(value) -> str:
    return {True: "yes", False: "no", None: "-"}[value]


def _m(value) -> str:
    return "-" if value is None else f"{value / 1e6:.0f} M"


def _ms(value) -> str:
    return "-" if value is None else f"~{value:.0f}"


def _gap(check: dict | None) -> str:
    return "-" if check is None else f"{check['max_abs_gap']:.6f} ({check['items']})"


# -- driver ----------------------------------------------------------------------------------------
def fp32_embeddings(texts: list[str], bundle: str | None, checkpoint: str) -> tuple[list | None, str]:
    """The fp32 PyTorch encoder's embeddings of `texts` (host only, when torch is installed) and where they
    come from; (None, why not) when the checkpoint cannot be loaded here."""
    from .subjects import SubjectUnavailable, make_subject

    try:
        subject = make_subject("pytorch-fp32", bundle, threads=2, checkpoint=checkpoint)
    except SubjectUnavailable as exc:
        log.info("no fp32 reference for the probe texts: %s", exc)
        return None, f"checkpoint {checkpoint!r} unavailable: {exc}"
    return [subject.classifier.embed(t).tolist() for t in texts], f"fp32 encoder of checkpoint {checkpoint!r}"


def fp32_checkpoint(bundle: str | None, checkpoint: str | None) -> str | None:
    """The fp32 twin of the bundle: the checkpoint named, else 'base' for a bundle of the base encoder
    (no training record), else none (a distilled bundle's checkpoint is not in the bundle)."""
    from emolite.bundle import Bundle

    if checkpoint:
        return checkpoint
    return "base" if Bundle.open(bundle, verify=False).manifest.get("training") is None else None


def fp32_label_rows(bundle: str | None) -> tuple[str, dict[str, list[str]], dict[str, list[float]]] | None:
    """The fp32 reference every bundle carries: its default label set, when the export embedded it with the
    fp32 encoder (`"source": "fp32"`) and lists every label's prompts. Returns (set name, prompts per label,
    fp32 row per label), else None. Each row is `emolite.scoring.label_row` of its prompts' fp32 embeddings, so
    a run reproduces it by embedding the same prompts (one per call) with its backend and averaging the same
    way (arm/probe.py). The prompts are short texts, so this reference is weaker than the probe texts'."""
    from emolite.bundle import Bundle

    b = Bundle.open(bundle, verify=False)
    name = b.default_label_set
    if b.manifest["label_sets"][name].get("source") != "fp32":
        return None
    label_set = b.label_set(name)
    if any(not label_set.prompts.get(label) for label in label_set.labels):
        return None
    prompts = {label: list(label_set.prompts[label]) for label in label_set.labels}
    rows = {label: label_set.embeddings[i].tolist() for i, label in enumerate(label_set.labels)}
    return name, prompts, rows


def bundle_backends(bundle: str | None) -> list[str]:
    from emolite.bundle import Bundle

    return [b for b in ("onnx", "tflite") if b in Bundle.open(bundle, verify=False).manifest["formats"]]


def run_check(
    cpus: tuple[str, ...] = CPUS,
    cache: Path | None = None,
    bundle: str | None = None,
    checkpoint: str | None = None,
) -> dict:
    """Build the environment, run every backend on x86 and on each emulated CPU, compare.

    Passed when every backend ran on x86 and on every CPU and every row passed (`verdict`); a backend whose
    x86 reference or guest run failed is listed in `skipped` and fails the check.
    """
    env = prepare(Path(cache) if cache else DEFAULT_CACHE)
    texts = probe_texts(bundle)
    twin = fp32_checkpoint(bundle, checkpoint)
    if twin:
        fp32, probe_source = fp32_embeddings(texts, bundle, twin)
    else:
        fp32, probe_source = None, "no fp32 checkpoint known for this bundle (pass --checkpoint)"
    label_ref = fp32_label_rows(bundle)
    fp32_rows = label_ref[2] if label_ref else None
    rows, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="emolite-arm-") as tmp:
        workdir = Path(tmp)
        for backend in bundle_backends(bundle):
            config = {
                "bundle": bundle,
                "backend": backend,
                "texts": texts,
                "repeats": 2,
                "region_text": "I can't believe I actually passed the exam after all that worrying.",
            }
            if label_ref:
                config["label_prompts"] = label_ref[1]
            try:
                reference = host_reference(config, workdir)
            except ArmCheckError as exc:
                skipped.append({"backend": backend, "cpu": "x86", "reason": f"x86 reference failed: {exc}"})
                continue
            for cpu in cpus:
                log.info("running %s on emulated %s", backend, cpu)
                try:
                    rows.append(_guest_row(env, cpu, config, workdir, reference, fp32, fp32_rows))
                except ArmCheckError as exc:
                    skipped.append({"backend": backend, "cpu": cpu, "reason": f"guest run failed: {exc}"})
    return {
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "qemu": _qemu_version(),
        "guest_packages": guest_requirements(),
        "verdict_rule": VERDICT_RULE,
        "fp32_tolerance": FP32_TOLERANCE,
        "boundary_cosine": BOUNDARY_COSINE,
        "identical_cosine": IDENTICAL_COSINE,
        "fp32_reference": {
            "probe_texts": probe_source if fp32 is not None else None,
            "probe_texts_unavailable": None if fp32 is not None else probe_source,
            "label_rows": None
            if label_ref is None
            else f"the bundle's fp32 rows of label set '{label_ref[0]}' ({len(label_ref[2])} rows, "
            f"{sum(map(len, label_ref[1].values()))} prompts)",
        },
        "probe_texts": len(texts),
        "rows": rows,
        "skipped": skipped,
        "passed": check_passed(rows, skipped),
        "estimate": {
            "method": ESTIMATE_METHOD,
            "anchor": {"ms": ANCHOR_MS, "instructions": ANCHOR_INSTRUCTIONS, "clock_ghz": ANCHOR_CLOCK_GHZ},
            "cores": {cpu: {**core, "ipc": round(core["ipc"], 3)} for cpu, core in PI_CORES.items()},
        },
        "note": "instruction counts are guest (aarch64) instructions counted by a QEMU TCG plugin: deterministic "
        "cost figures, not latencies; emulated wall times are not device latency; the Pi latencies are "
        "estimates from the counts, not measurements",
    }


def check_passed(rows: list[dict], skipped: list[dict]) -> bool:
    """The check's verdict: some rows, none skipped (a backend not run on x86 or on a CPU fails), all passed."""
    return bool(rows) and not skipped and all(r["comparison"]["passed"] for r in rows)


def _guest_row(
    env: ArmEnv, cpu: str, config: dict, workdir: Path, reference: dict, fp32, fp32_rows: dict | None
) -> dict:
    guest = guest_run(env, cpu, config, workdir)
    marks, total = parse_marks(guest.pop("marks_log"))
    counts = instruction_counts(marks, guest["regions"])
    return {
        "cpu": cpu,
        "backend": config["backend"],
        "machine": guest["machine"],
        "comparison": compare(reference, guest, fp32=fp32, fp32_rows=fp32_rows),
        "instructions": counts,
        "instructions_total": total,
        "estimate": pi_estimate(cpu, counts),
        "emulated_wall_s": {k: v["wall_s"] for k, v in guest["regions"].items()} | {"load": guest["load_s"]},
    }


def _qemu_version() -> str:
    try:
        return subprocess.run(
            ["qemu-aarch64", "--version"], capture_output=True, text=True
        ).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "?"


def main(
    cpus: tuple[str, ...] = CPUS,
    cache: str | None = None,
    bundle: str | None = None,
    out: str | None = None,
    checkpoint: str | None = None,
) -> int:
    """`emolite bench --arm-check` / `make arm-check`: prints the summary, writes JSON to `out`; 0 when passed."""
    try:
        result = run_check(cpus, Path(cache) if cache else None, bundle, checkpoint)
    except ArmCheckError as exc:
        print(f"ARM check could not run: {exc}", file=sys.stderr)
        return 2
    print(summarize(result["rows"]))
    for s in result["skipped"]:
        print(f"- {s['backend']} on {s['cpu']} not checked (fails the check): {s['reason']}")
    ref = result["fp32_reference"]
    print(
        f"\n{result['qemu']}; guest packages {', '.join(result['guest_packages'])}; "
        f"{result['probe_texts']} probe texts. {result['note']}.\n"
        f"fp32 references: label rows: {ref['label_rows'] or 'none in this bundle'}; probe texts: "
        f"{ref['probe_texts'] or 'none, ' + ref['probe_texts_unavailable']}.\n"
        f"Verdict rule: {result['verdict_rule']}."
    )
    for r in result["rows"]:
        print(f"- {r['cpu']} {r['backend']}: {r['comparison']['verdict']}")
    print("ARM check " + ("PASSED" if result["passed"] else "FAILED"))
    if out:
        write_json(result, out)  # creates out/ in a fresh clone
    return 0 if result["passed"] else 1
