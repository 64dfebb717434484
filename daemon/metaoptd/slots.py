"""The node's slots: one per GPU (or K per GPU when packing), else CPU slots.

GPUs (index, name, memory) are found through NVML (nvidia-ml-py), else ``nvidia-smi``, else
there are none.
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
class Gpu:
    index: str  # as CUDA_VISIBLE_DEVICES names it
    name: str  # "NVIDIA H200"
    memory_mib: int  # 0 when unknown

    @property
    def model(self) -> str:
        """What peers show: name and memory, e.g. "NVIDIA H200 140GB"."""
        return f"{self.name} {round(self.memory_mib / 1024)}GB" if self.memory_mib else self.name


@dataclasses.dataclass(frozen=True, slots=True)
class Slot:
    id: str  # "gpu0.1" (second trial on GPU 0) or "cpu2"
    gpu: str | None  # the CUDA_VISIBLE_DEVICES value a trial in this slot sees
    model: str = ""  # the GPU's model, for what this node announces; "" for a CPU slot

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
    return [
        Slot(f"gpu{g.index}.{k}", g.index, g.model) for g in gpus for k in range(trials_per_gpu)
    ]


def find_gpus() -> list[Gpu]:
    fake = os.environ.get("METAOPT_FAKE_GPUS")
    if fake is not None:
        try:
            return [Gpu(str(i), "fake GPU", 0) for i in range(int(fake))]
        except ValueError:
            raise ValueError(f"METAOPT_FAKE_GPUS must be a number of GPUs, got {fake!r}") from None
    return _nvml_gpus() or _nvidia_smi_gpus()


def _nvml_gpus() -> list[Gpu]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
        try:
            gpus = []
            for i in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(i)
                name = pynvml.nvmlDeviceGetName(handle)
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total
                name = name.decode() if isinstance(name, bytes) else str(name)
                gpus.append(Gpu(str(i), name, int(memory) // 2**20))
            return gpus
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError as exc:
        _log.info("NVML found no GPU (%s)", exc)
        return []


def _nvidia_smi_gpus() -> list[Gpu]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    query = [exe, "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"]
    try:
        out = subprocess.run(query, capture_output=True, text=True, timeout=10, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        _log.info("nvidia-smi found no GPU (%s)", exc)
        return []
    return [_parse_smi_line(line) for line in out.stdout.splitlines() if line.strip()]


def _parse_smi_line(line: str) -> Gpu:
    """ "0, NVIDIA H200, 143771" (a name may hold commas: index first, memory last)."""
    index, _, rest = line.partition(",")
    name, _, memory = rest.rpartition(",")
    memory = memory.strip()
    return Gpu(index.strip(), name.strip(), int(memory) if memory.isdigit() else 0)
