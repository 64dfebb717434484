"""The node's slots: one per GPU (or K per GPU when packing), else CPU slots.

GPUs are found through NVML (nvidia-ml-py), else ``nvidia-smi -L``, else there are none.
``METAOPT_FAKE_GPUS=N`` declares N GPUs without looking, so machines without one exercise the
same code path as those with one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import subprocess

_log = logging.getLogger("metaoptd")


@dataclasses.dataclass(frozen=True, slots=True)
class Slot:
    id: str  # "gpu0.1" (second trial on GPU 0) or "cpu2"
    gpu: str | None  # the CUDA_VISIBLE_DEVICES value a trial in this slot sees

    @property
    def cuda_visible_devices(self) -> str:
        # An empty value hides every GPU from a CPU trial instead of letting it grab GPU 0.
        return self.gpu if self.gpu is not None else ""


def inventory(trials_per_gpu: int = 1, cpu_slots: int = 1) -> list[Slot]:
    """The node's slots; CPU slots only when no GPU is found."""
    if trials_per_gpu < 1 or cpu_slots < 1:
        raise ValueError("trials per GPU and CPU slots must be at least 1")
    gpus = find_gpus()
    if not gpus:
        return [Slot(f"cpu{i}", None) for i in range(cpu_slots)]
    return [Slot(f"gpu{g}.{k}", g) for g in gpus for k in range(trials_per_gpu)]


def find_gpus() -> list[str]:
    fake = os.environ.get("METAOPT_FAKE_GPUS")
    if fake is not None:
        try:
            return [str(i) for i in range(int(fake))]
        except ValueError:
            raise ValueError(f"METAOPT_FAKE_GPUS must be a number of GPUs, got {fake!r}") from None
    return _nvml_gpus() or _nvidia_smi_gpus()


def _nvml_gpus() -> list[str]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
        try:
            return [str(i) for i in range(pynvml.nvmlDeviceGetCount())]
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError as exc:
        _log.info("NVML found no GPU (%s)", exc)
        return []


def _nvidia_smi_gpus() -> list[str]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=10, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        _log.info("nvidia-smi found no GPU (%s)", exc)
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]
