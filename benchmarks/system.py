"""System metadata for every report: CPU, cores, OS, Python, runtime versions, load and emulation.

A number is only meaningful with the machine it was taken on; timings taken under an emulator (qemu-user)
are cost figures of the emulator, never device latency, so emulation is detected and recorded here.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

# Distributions whose versions go into every report (absent ones are recorded as null).
RUNTIMES = (
    "emolite",
    "numpy",
    "tokenizers",
    "onnxruntime",
    "ai-edge-litert",
    "torch",
    "transformers",
    "sentence-transformers",
    "onnx",
    "scikit-learn",
    "matplotlib",
)
_X86_MACHINES = ("x86_64", "amd64", "i386", "i686")


def package_version(name: str) -> str | None:
    """Installed version of a distribution, without importing it (importing torch costs seconds)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def install_kind() -> str:
    """How the SDK is installed: 'regular' (a plain pip install into site-packages, as users have),
    'editable' (pip install -e: its import hook adds to cold start) or 'source tree' (found on sys.path)."""
    import sysconfig

    import emolite

    here = Path(emolite.__file__).resolve()
    if any(
        Path(p).resolve() in here.parents
        for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    ):
        return "regular"
    for dist in metadata.distributions():
        if (dist.metadata["Name"] or "").lower() != "emolite":
            continue
        try:
            direct = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        if direct.get("dir_info", {}).get("editable"):
            return "editable"
    return "source tree"


def read_cpuinfo(path: str = "/proc/cpuinfo") -> dict[str, str]:
    """The first processor block of /proc/cpuinfo as a dict ({} where there is none, e.g. macOS)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if info.get("processor") is not None and len(info) > 2:
                break
            continue
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    return info


def cpu_model(info: dict[str, str]) -> str:
    """A readable CPU name from cpuinfo: x86 'model name', ARM 'Model' or implementer/part ids."""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        if info.get(key):
            return info[key]
    if "CPU part" in info:
        return f"ARM implementer {info.get('CPU implementer', '?')} part {info['CPU part']}"
    return platform.processor() or platform.machine()


def cpu_flags(info: dict[str, str]) -> list[str]:
    """x86 'flags' or ARM 'Features', sorted."""
    return sorted((info.get("flags") or info.get("Features") or "").split())


def emulation(info: dict[str, str] | None = None) -> dict:
    """Whether this process runs under an emulator, and why we think so.

    qemu-user fakes uname() but not everything: the host kernel still names the process after the
    emulator and still describes the host CPU in /proc/cpuinfo (unless a fake one is mounted), and the
    launcher's QEMU_* variables are visible. EMOLITE_EMULATED=1 lets a launcher say it outright.
    """
    info = read_cpuinfo() if info is None else info
    reasons = []
    if os.environ.get("EMOLITE_EMULATED") == "1":
        reasons.append("EMOLITE_EMULATED=1")
    if _process_name().startswith("qemu-"):
        reasons.append(f"process name {_process_name()}")
    reasons += [f"{k} set" for k in ("QEMU_CPU", "QEMU_LD_PREFIX") if os.environ.get(k)]
    machine = platform.machine().lower()
    if machine not in _X86_MACHINES and "vendor_id" in info:
        reasons.append(f"{machine} process sees an x86 /proc/cpuinfo")
    return {"emulated": bool(reasons), "reasons": reasons, "qemu_cpu": os.environ.get("QEMU_CPU")}


def _process_name() -> str:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cores() -> dict:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"logical": os.cpu_count(), "usable": usable}


def load_average() -> list[float] | None:
    """1/5/15-minute load: the machine may be shared, and a loaded machine gives slower numbers."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def collect() -> dict:
    """Everything the report's `system` object holds."""
    info = read_cpuinfo()
    return {
        "cpu_model": cpu_model(info),
        "cpu_flags": cpu_flags(info),
        "machine": platform.machine(),
        "cores": cores(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "runtimes": {name: package_version(name) for name in RUNTIMES},
        "emolite_install": install_kind(),
        "load_average": load_average(),
        "emulation": emulation(info),
    }
