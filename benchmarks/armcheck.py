"""The ARM check: the SDK with its aarch64 wheels under qemu-user, on emulated Cortex-A72 (~Raspberry Pi 4)
and Cortex-A76 (~Pi 5), against the same SDK on this x86 host.

Verdict (`verdict`), per backend and CPU: the guest loads the bundle and passes the SDK's own golden-vector
check (else it fails at load), its embeddings are within cosine 0.99 of x86's on every probe text, and, when
an fp32 reference is known, it is as close to the fp32 encoder as x86 on every text. That is the bar the
int8 model itself was accepted under: dynamic int8 rounds activations at run time, and ARM's float kernels
(GELU, softmax, layer norm) flip a few roundings, so an ARM result can differ from x86's by about as much as
two int8 runs of one text in different batches; "identical to x86" (cosine >= 0.999 and the same top labels,
the golden-vector bar) is reported beside it, not required. The cost figure is guest instructions per
inference, counted by a QEMU TCG plugin: deterministic, a regression metric, NOT a latency (emulated wall
time says nothing about an ARM core's speed).

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
IDENTICAL_COSINE = 0.999  # the golden-vector bar: "the same result as x86", reported
MIN_COSINE_TO_X86 = 0.99  # the verdict's bar: the export's mean-cosine gate for int8 against fp32
FP32_TOLERANCE = 0.005  # how much farther from fp32 than x86 a guest text may be
REGIONS = ("e2e", "model_L16", "model_L64")
PROBE_PER_CATEGORY = 4


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


def compare(reference: dict, guest: dict, fp32=None, min_cosine: float = MIN_COSINE_TO_X86) -> dict:
    """Embedding cosines and label agreement of a guest run against the x86 run of the same backend.

    With `fp32` (the fp32 encoder's embeddings of the same texts) it also says how far each side is from
    full precision, which tells a real ARM error from a different-but-equal int8 rounding.
    """
    if reference["texts"] != guest["texts"]:
        raise ValueError("guest and reference ran different probe texts")
    cos = cosines(reference["embeddings"], guest["embeddings"])
    top_same = [x == y for x, y in zip(reference["top_labels"], guest["top_labels"])]
    pred_same = [sorted(x) == sorted(y) for x, y in zip(reference["predicted"], guest["predicted"])]
    worst = int(np.argmin(cos))
    as_close = _as_close_to_fp32(reference, guest, fp32)
    passed, reason = verdict(round(float(cos.min()), 6), as_close, min_cosine)  # as reported
    return {
        "texts": len(cos),
        "min_cosine": round(float(cos.min()), 6),
        "mean_cosine": round(float(cos.mean()), 6),
        "worst_text": reference["texts"][worst],
        "below_identical": int(np.sum(cos < IDENTICAL_COSINE)),
        "cosines": [round(float(c), 6) for c in cos],
        "top_label_agreement": sum(top_same),
        "predicted_agreement": sum(pred_same),
        "top_label_mismatches": [t for t, ok in zip(reference["texts"], top_same) if not ok],
        "identical": bool(cos.min() >= IDENTICAL_COSINE and all(top_same)),
        "min_cosine_to_fp32": None
        if fp32 is None
        else {
            "x86": round(float(cosines(fp32, reference["embeddings"]).min()), 6),
            "guest": round(float(cosines(fp32, guest["embeddings"]).min()), 6),
        },
        "below_identical_detail": _detail(reference, guest, cos, IDENTICAL_COSINE, fp32),
        "as_close_to_fp32": as_close,
        "passed": passed,
        "verdict": reason,
    }


def verdict(
    min_cosine_to_x86: float, as_close_to_fp32: bool | None, bar: float = MIN_COSINE_TO_X86
) -> tuple[bool, str]:
    """(passed, why) from a guest run's figures: within `bar` of x86 on every text and, when an fp32
    reference was available (`as_close_to_fp32` is not None), as close to fp32 as x86 on every text."""
    if min_cosine_to_x86 < bar:
        return False, f"a text's embedding is at cosine {min_cosine_to_x86:.6f} to x86's, under the bar {bar}"
    if as_close_to_fp32 is False:
        return False, f"a text is more than {FP32_TOLERANCE} farther from the fp32 encoder than on x86"
    if as_close_to_fp32 is None:
        return (
            True,
            f"every text within cosine {bar} of x86 (no fp32 reference: pass --checkpoint to compare)",
        )
    return True, f"every text within cosine {bar} of x86 and as close to the fp32 encoder as x86"


def _as_close_to_fp32(reference: dict, guest: dict, fp32, tolerance: float = FP32_TOLERANCE) -> bool | None:
    """Whether the guest is, text by text, as close to full precision as x86 (within `tolerance`).

    Dynamic int8 rounds activations at run time, so tiny float differences between x86 and ARM kernels can
    flip roundings; when both sides stay equally close to fp32, the difference is rounding noise, not an error.
    """
    if fp32 is None:
        return None
    x86, arm = cosines(fp32, reference["embeddings"]), cosines(fp32, guest["embeddings"])
    return bool(np.all(arm >= x86 - tolerance))


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


def summarize(rows: list[dict]) -> str:
    """Markdown table of the check: one row per emulated CPU and backend."""
    lines = [
        "| CPU | backend | texts | min cosine to x86 | same top label | same predicted set | identical to x86 "
        "| as close to fp32 as x86 | insns/inference e2e | model L=16 | model L=64 | import+load insns | passed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, n = r["comparison"], r.get("instructions") or {}
        lines.append(
            f"| {r['cpu']} | {r['backend']} | {c['texts']} | {c['min_cosine']:.6f} | {c['top_label_agreement']}/"
            f"{c['texts']} | {c['predicted_agreement']}/{c['texts']} | {_yes(c['identical'])} | "
            f"{_yes(c.get('as_close_to_fp32'))} | "
            f"{_m(n.get('e2e'))} | {_m(n.get('model_L16'))} "
            f"| {_m(n.get('model_L64'))} | {_m(n.get('import_and_load'))} | {'yes' if c['passed'] else '**no**'} |"
        )
    return "\n".join(lines)


def _yes(value) -> str:
    return {True: "yes", False: "no", None: "-"}[value]


def _m(value) -> str:
    return "-" if value is None else f"{value / 1e6:.0f} M"


# -- driver ----------------------------------------------------------------------------------------
def fp32_embeddings(texts: list[str], bundle: str | None, checkpoint: str) -> list | None:
    """The fp32 PyTorch encoder's embeddings (host only, when torch is installed), else None."""
    from .subjects import SubjectUnavailable, make_subject

    try:
        subject = make_subject("pytorch-fp32", bundle, threads=2, checkpoint=checkpoint)
    except SubjectUnavailable as exc:
        log.info("no fp32 reference: %s", exc)
        return None
    return [subject.classifier.embed(t).tolist() for t in texts]


def fp32_checkpoint(bundle: str | None, checkpoint: str | None) -> str | None:
    """The fp32 twin of the bundle: the checkpoint named, else 'base' for a bundle of the base encoder
    (no training record), else none (a distilled bundle's checkpoint is not in the bundle)."""
    from emolite.bundle import Bundle

    if checkpoint:
        return checkpoint
    return "base" if Bundle.open(bundle, verify=False).manifest.get("training") is None else None


def bundle_backends(bundle: str | None) -> list[str]:
    from emolite.bundle import Bundle

    return [b for b in ("onnx", "tflite") if b in Bundle.open(bundle, verify=False).manifest["formats"]]


def run_check(
    cpus: tuple[str, ...] = CPUS,
    cache: Path | None = None,
    bundle: str | None = None,
    checkpoint: str | None = None,
) -> dict:
    """Build the environment, run every backend on x86 and on each emulated CPU, compare."""
    env = prepare(Path(cache) if cache else DEFAULT_CACHE)
    texts = probe_texts(bundle)
    twin = fp32_checkpoint(bundle, checkpoint)
    fp32 = fp32_embeddings(texts, bundle, twin) if twin else None
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
            try:
                reference = host_reference(config, workdir)
            except ArmCheckError as exc:
                skipped.append({"backend": backend, "reason": f"x86 reference failed: {exc}"})
                continue
            for cpu in cpus:
                log.info("running %s on emulated %s", backend, cpu)
                rows.append(_guest_row(env, cpu, config, workdir, reference, fp32))
    return {
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "qemu": _qemu_version(),
        "guest_packages": guest_requirements(),
        "min_cosine_to_x86": MIN_COSINE_TO_X86,
        "identical_cosine": IDENTICAL_COSINE,
        "fp32_reference": twin if fp32 is not None else None,
        "probe_texts": len(texts),
        "rows": rows,
        "skipped": skipped,
        "passed": bool(rows) and all(r["comparison"]["passed"] for r in rows),
        "note": "instruction counts are guest (aarch64) instructions counted by a QEMU TCG plugin: deterministic "
        "cost figures, not latencies; emulated wall times are not device latency",
    }


def _guest_row(env: ArmEnv, cpu: str, config: dict, workdir: Path, reference: dict, fp32) -> dict:
    guest = guest_run(env, cpu, config, workdir)
    marks, total = parse_marks(guest.pop("marks_log"))
    return {
        "cpu": cpu,
        "backend": config["backend"],
        "machine": guest["machine"],
        "comparison": compare(reference, guest, fp32=fp32),
        "instructions": instruction_counts(marks, guest["regions"]),
        "instructions_total": total,
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
        print(f"- {s['backend']} skipped: {s['reason']}")
    print(
        f"\n{result['qemu']}; guest packages {', '.join(result['guest_packages'])}; "
        f"{result['probe_texts']} probe texts. {result['note']}."
    )
    for r in result["rows"]:
        print(f"- {r['cpu']} {r['backend']}: {r['comparison']['verdict']}")
    print("ARM check " + ("PASSED" if result["passed"] else "FAILED"))
    if out:
        write_json(result, out)  # creates out/ in a fresh clone
    return 0 if result["passed"] else 1
