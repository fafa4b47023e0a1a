"""1 device: pick_device picks cuda; GPU name, torch / CUDA / cuDNN / NCCL versions."""

from __future__ import annotations

import os
import platform
import shutil
import sys

from .common import ROOT, Run, run_command


def check_device(run: Run):
    import torch
    import torchvision
    from temporalkit.reference_models.device import pick_device

    import temporalkit

    details = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "temporalkit_file": temporalkit.__file__,
        "temporalkit_realpath": os.path.realpath(temporalkit.__file__),
        "temporalkit_from_this_tree": os.path.realpath(temporalkit.__file__).startswith(str(ROOT) + os.sep),
        "cuda_available": torch.cuda.is_available(),
        "auto_device": str(pick_device("auto")),
    }
    from importlib.metadata import PackageNotFoundError, version

    for module, distributions in (
        ("libcst", ["libcst"]),
        ("av", ["av"]),
        ("pydantic", ["pydantic"]),
        ("cv2", ["opencv-python-headless", "opencv-python", "opencv-contrib-python"]),
    ):
        try:
            imported = __import__(module)
        except ImportError as exc:
            details[f"{module}_version"] = f"missing ({exc})"
            continue
        found = getattr(imported, "__version__", "?")
        for distribution in distributions:
            try:
                found = version(distribution)
                break
            except PackageNotFoundError:
                continue
        details[f"{module}_version"] = found
    # What the subprocesses (CLI, torchrun workers, the dynamic auditor's child) import: this tree too?
    probe = run_command(
        run,
        "subprocess_import",
        [
            sys.executable,
            "-c",
            "import os, temporalkit.validators.dynamic.child as c; print(os.path.realpath(c.__file__))",
        ],
        60,
    )
    details["subprocess_child_module"] = probe["stdout"].strip() or probe["stderr"].strip()[-300:]
    details["temporalkit_from_this_tree"] &= details["subprocess_child_module"].startswith(str(ROOT) + os.sep)
    run.environment.update(
        {
            k: details[k]
            for k in (
                "python",
                "torch",
                "torchvision",
                "torch_cuda",
                "cudnn",
                "cpu_count",
                "temporalkit_realpath",
                "cv2_version",
                "av_version",
                "libcst_version",
            )
        }
    )
    if not details["cuda_available"]:
        try:
            pick_device("cuda")
            details["pick_cuda"] = "returned a device without CUDA (unexpected)"
        except ValueError as exc:
            details["pick_cuda"] = f"ValueError: {exc}"
        details["error"] = f"no CUDA: pick_device('auto') -> {details['auto_device']}"
        if not details["temporalkit_from_this_tree"]:
            details["error"] += (
                f"; temporalkit NOT from this tree: {details['temporalkit_realpath']}, {details['subprocess_child_module']}"
            )
            return "fail", details
        return "skip", details
    run.cuda = True
    properties = torch.cuda.get_device_properties(0)
    details.update(
        pick_cuda=str(pick_device("cuda")),
        device_count=torch.cuda.device_count(),
        device_name=torch.cuda.get_device_name(0),
        capability=".".join(map(str, torch.cuda.get_device_capability(0))),
        total_memory_gib=round(properties.total_memory / 2**30, 1),
        multiprocessors=properties.multi_processor_count,
    )
    try:
        details["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
    except Exception as exc:  # noqa: BLE001
        details["nccl"] = f"unavailable: {exc}"
    smi = (
        run_command(
            run,
            "nvidia-smi",
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            20,
        )
        if _which("nvidia-smi")
        else None
    )
    details["nvidia_smi"] = smi["stdout"].strip() if smi else "nvidia-smi not on PATH"
    run.environment.update({k: details[k] for k in ("device_name", "device_count", "nccl")})
    ok = details["auto_device"] == "cuda" and details["temporalkit_from_this_tree"]
    if not details["temporalkit_from_this_tree"]:
        details["error"] = (
            f"temporalkit imported from {details['temporalkit_realpath']} (subprocesses: "
            f"{details['subprocess_child_module']}), not from {ROOT}"
        )
    return ("pass" if ok else "fail"), details


def _which(name: str) -> bool:
    return shutil.which(name) is not None
