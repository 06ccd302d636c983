"""Run BY THE TARGET interpreter for `envcheck doctor --deep` (stdlib + torch, Python 3.7 syntax):
import torch and ask it what it can do. Prints exactly one JSON object on stdout.

Shell equivalent: `python -c 'import torch; print(torch.__version__, torch.version.cuda,
torch.cuda.is_available(), torch.cuda.device_count(), torch.cuda.get_arch_list())'`.
"""
import json
import sys
import time
import warnings


def main():
    out = {"ok": False}
    start = time.time()
    caught = []
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        try:
            import torch
        except BaseException as exc:  # ImportError, OSError from a missing libcudart, ...
            out["error"] = "import torch failed: %s: %s" % (exc.__class__.__name__, exc)
            sys.stdout.write(json.dumps(out) + "\n")
            return
        out["import_s"] = round(time.time() - start, 3)
        out["version"] = getattr(torch, "__version__", None)
        out["cuda"] = getattr(torch.version, "cuda", None)
        out["hip"] = getattr(torch.version, "hip", None)
        try:
            cudnn = torch.backends.cudnn.version()
        except Exception:
            cudnn = None
        out["cudnn"] = cudnn
        try:
            out["arch_list"] = list(torch.cuda.get_arch_list())
        except Exception as exc:
            out["arch_list"] = []
            out["arch_list_error"] = str(exc)
        try:
            out["is_available"] = bool(torch.cuda.is_available())
            out["device_count"] = int(torch.cuda.device_count())
        except Exception as exc:
            out["is_available"] = False
            out["device_count"] = 0
            out["cuda_error"] = "%s: %s" % (exc.__class__.__name__, exc)
        devices = []
        for i in range(out.get("device_count") or 0):
            try:
                cap = torch.cuda.get_device_capability(i)
                devices.append({"index": i, "name": torch.cuda.get_device_name(i),
                                "capability": "%d.%d" % (cap[0], cap[1])})
            except Exception as exc:
                devices.append({"index": i, "error": "%s: %s" % (exc.__class__.__name__, exc)})
        out["devices"] = devices
        # torchvision / torchaudio: a wheel built for another torch fails here ("operator
        # torchvision::nms does not exist"), not at `import torch`
        companions = {}
        for name in ("torchvision", "torchaudio"):
            try:
                import importlib.util
                if importlib.util.find_spec(name) is None:
                    continue
                module = __import__(name)
                companions[name] = {"version": getattr(module, "__version__", None)}
            except BaseException as exc:
                text = str(exc).strip().splitlines()
                companions[name] = {"error": "%s: %s" % (exc.__class__.__name__, text[0] if text else "")}
        out["companions"] = companions
        caught = ws
    # torch.cuda reports init failures ("CUDA driver initialization failed", "found no NVIDIA driver")
    # as warnings: keep them, they are the cause a user needs.
    out["warnings"] = [str(w.message).strip().splitlines()[0] for w in caught if str(w.message).strip()][:5]
    out["ok"] = True
    out["total_s"] = round(time.time() - start, 3)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
