"""envcheck verify suite: real tensor, autograd, CUDA, MPS and distributed work inside THIS interpreter.

Run BY THE TARGET interpreter, by file path (never imported by envcheck): stdlib + torch only,
Python 3.7-compatible syntax. torch is imported once, by the `torch-import` check.

Protocol: one JSON event per line on stdout (the real stdout; anything else that writes to fd 1,
such as NCCL_DEBUG output, is redirected to stderr so it cannot corrupt the stream):

    {"event": "hello", "pid": ..., "python": "3.11.7", "executable": ...}
    {"event": "plan", "checks": [{"id": ..., "name": ...}, ...]}   (again after torch imports)
    {"event": "target", "torch": "2.13.0+cpu", "build": "CPU", "device": "cpu", ...}
    {"event": "start", "id": ..., "name": ..., ["name_template": {"id", "params"}]}
    {"event": "end", "id": ..., "status": "ok|fail|skip", "duration_s": ..., "message": ..., "fix": ...,
     ["message_template"/"fix_template": {"id": TEMPLATE, "params": {...}}],   (see M: the host translates)
     ["perf": {"device", "name", "capability", "metrics", "skipped"}]}   (level 3 perf-* checks only)
    {"event": "done"}

Options: --skip ID,ID (already recorded by the host: a fresh child resumes after a crash),
--only ID,ID, --device auto|cpu|cuda|mps, --require-cuda, --distributed, --timeout SECONDS (per
check: faulthandler dumps the Python stack to stderr and exits when a check exceeds it, so a hang
holding the GIL is still caught), --driver-gpus N and --expected-cuda-devices N (what the NVIDIA
driver reports, from the host's NVML / nvidia-smi probe, and how many of those CUDA_VISIBLE_DEVICES
leaves visible), or --driver-info FILE holding both as JSON, which the host may write while this
process is still importing torch. --level 1|2|3 (1: the default suite; 2 adds companion checks on every
device, larger matmul/convolution against the CPU and a sizeable memory round trip; 3 adds the perf-*
measurements per device, whose raw figures ride in the end event as "perf" for the host to compare with
the datasheet; every check declares the lowest level it runs at), --import-timeout SECONDS (the limit of `import torch`, in the
torch-import check and when a fresh child resumes after a crash: never counted in a check's budget),
--expect FILE|JSON (the host's matrix row for the installed torch: companion versions, default index,
pip style; this suite never imports envcheck).

TEST HOOK (for envcheck's own isolation tests, never needed by users): the environment variable
ENVCHECK_VERIFY_FAULT="CHECK_ID:MODE[,CHECK_ID:MODE]" makes the named check misbehave right after
its start event: MODE crash (SIGSEGV), abort (os.abort), hang (sleeps forever), raise (exception),
slow (sleeps 1.5 x --timeout, then runs it: proves `import torch` is not held to a check's limit).
The pseudo-id `resume-import` applies to the quiet re-import of a fresh child after a crash.
"""
import argparse
import faulthandler
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

SUITE_VERSION = 1
FAULT_ENV = "ENVCHECK_VERIFY_FAULT"



class M(str):
    """A check's message that keeps its template: the str value is the English text (what the event
    stream, --json and the logs carry); the end event also carries the template and its parameters
    ("message_template" / "fix_template": {"id", "params"}) so the host can render the template's
    translation (envcheck/i18n.py's catalog: this suite itself only speaks English and never imports it).
    Parameters are str/int/float/bool/None or M (anything else is passed as its str())."""

    def __new__(cls, template, **params):
        params = dict((k, v if v is None or isinstance(v, (str, int, float, bool)) else str(v))
                      for k, v in params.items())
        self = str.__new__(cls, template.format(**params) if params else template)
        self.template = template
        self.params = params
        return self


def template_of(message):
    """{"id": template, "params": {...}} of an M (nested M parameters likewise), else None."""
    if not isinstance(message, M):
        return None
    return {"id": message.template,
            "params": dict((k, template_of(v) if isinstance(v, M) else v) for k, v in message.params.items())}


def _joined(items):
    """'; '.join(items), keeping the templates of one or two messages (there are two companions)."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return M("{first}; {second}", first=items[0], second=items[1])
    return "; ".join(items)


def install_fix(py):
    return M("run `envcheck install --python {py}` and execute the command it prints", py=py)


# --------------------------------------------------------------------------- event stream

_events = None  # file object on the ORIGINAL stdout; sys.stdout and fd 1 go to stderr


def _open_event_stream():
    global _events
    try:
        fd = os.dup(1)
        os.dup2(2, 1)  # C libraries printing to fd 1 now land on stderr
        _events = os.fdopen(fd, "w")
    except OSError:
        _events = sys.stdout
    sys.stdout = sys.stderr


def emit(obj):
    _events.write(json.dumps(obj) + "\n")
    _events.flush()


# --------------------------------------------------------------------------- check outcomes


class Skip(Exception):
    pass


class Fail(Exception):
    def __init__(self, message, fix=None):
        Exception.__init__(self, message)
        self.message = message
        self.fix = fix


def expect(condition, message, fix=None):
    if not condition:
        raise Fail(message, fix)


def _short(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (exc.__class__.__name__, text[0] if text else "")


def _fix_for_runtime_error(text, ctx):
    low = text.lower()
    if "no kernel image is available" in low:
        return M("this torch build has no kernels for this GPU: {fix} (it picks a build whose CUDA version covers the GPU)",
                 fix=install_fix(shlex.quote(sys.executable)))
    if "out of memory" in low:
        return M("free GPU memory (other processes: `nvidia-smi`) and rerun")
    if "driver" in low and ("too old" in low or "insufficient" in low):
        return M("update the NVIDIA driver, or install a torch build for an older CUDA (`envcheck install`)")
    if "cudnn" in low:
        return M("reinstall torch with the command from `envcheck install` (the cuDNN wheel may be mismatched)")
    return None


# --------------------------------------------------------------------------- pure helpers


def parse_arch(entry):
    """'sm_86' -> ('sm', 8, 6, ''); 'compute_90' -> ('compute', 9, 0, ''); 'sm_90a' -> (.., 'a').

    The last digit is the minor version, the digits before it the major (sm_120 is 12.0).
    Anything else (ROCm's gfx names, garbage) -> None.
    """
    m = re.match(r"^(sm|compute)_(\d+)(\d)([a-z]?)$", entry.strip())
    if not m:
        return None
    return (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4))


def arch_coverage(capability, arch_list):
    """Can a build with `arch_list` (torch.cuda.get_arch_list()) run on `capability` (major, minor)?

    Returns (covered, how). CUDA binary compatibility: SASS for sm_XY runs on devices of the same
    major version with minor >= Y; an arch-specific `a` variant only on exactly XY; PTX for
    compute_XY is JIT-compiled on any device with capability >= XY.
    https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#binary-compatibility
    """
    major, minor = capability
    sass = []
    ptx = []
    for entry in arch_list:
        parsed = parse_arch(entry)
        if parsed is None:
            continue
        kind, maj, mnr, suffix = parsed
        if kind == "sm":
            if maj == major and (mnr == minor if suffix == "a" else mnr <= minor):
                sass.append(entry)
        elif (maj, mnr) <= (major, minor):
            ptx.append(entry)
    if sass:
        return True, "native kernels (%s)" % ", ".join(sass)
    if ptx:
        return True, "PTX JIT from %s (first launches compile kernels, slower start)" % ", ".join(ptx)
    return False, "no sm_%d%d kernels and no PTX at or below compute_%d%d" % (major, minor, major, minor)


def parse_fault_spec(text):
    """'a:crash,b:hang' -> {'a': 'crash', 'b': 'hang'} (unknown modes are ignored)."""
    faults = {}
    for part in (text or "").split(","):
        if ":" not in part:
            continue
        check_id, mode = part.rsplit(":", 1)
        if mode.strip() in ("crash", "abort", "hang", "raise", "slow"):
            faults[check_id.strip()] = mode.strip()
    return faults


def _inject_fault(mode, timeout=0.0):
    if mode == "slow":
        time.sleep(timeout * 1.5)
    elif mode == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(5)
    elif mode == "abort":
        os.abort()
    elif mode == "hang":
        while True:
            time.sleep(3600)
    elif mode == "raise":
        raise RuntimeError("fault injected by %s" % FAULT_ENV)


# --------------------------------------------------------------------------- context


class Ctx(object):
    def __init__(self, opts):
        self.opts = opts
        self.torch = None
        self.numpy = None
        self.numpy_note = None
        self.import_error = None
        self.device = "cpu"
        self._driver = None
        self.cuda_warnings = []
        self.expect = {}  # the matrix row for the imported torch (select_release), after torch-import
        self.companions = {}  # name -> companion_state (None: not installed)
        self.companion_modules = {}  # name -> imported module (None: the import failed)
        self.event_extra = None  # level 3: raw figures a check sends to the host in its end event ("perf")
        self.perf_module = None

    def driver_counts(self):
        """(GPUs the driver reports, GPUs CUDA should see): from --driver-gpus/--expected-cuda-devices,
        or from the --driver-info file the host writes while this process imports torch (the host's
        NVML probe then costs no wall time). Missing -> None."""
        if self._driver is None:
            opts = self.opts
            info = {"driver_gpus": opts.driver_gpus, "expected_cuda_devices": opts.expected_cuda_devices}
            if opts.driver_info:
                deadline = time.time() + min(15.0, opts.timeout / 2.0)
                while not os.path.exists(opts.driver_info) and time.time() < deadline:
                    time.sleep(0.02)
                try:
                    with open(opts.driver_info) as fh:
                        loaded = json.load(fh)
                    for key in info:
                        if isinstance(loaded.get(key), int):
                            info[key] = loaded[key]
                except (OSError, ValueError, AttributeError):
                    pass
            self._driver = (info["driver_gpus"], info["expected_cuda_devices"])
        return self._driver

    def need_torch(self):
        if self.torch is None:
            raise Skip(M("torch did not import (see torch-import)"))
        return self.torch


# --------------------------------------------------------------------------- checks


def check_import(ctx):
    try:
        import torch
    except ImportError as exc:
        ctx.import_error = exc
        if getattr(exc, "name", None) == "torch" or "No module named 'torch'" in str(exc):
            raise Fail(M("torch is not installed in {python}", python=sys.executable),
                       install_fix(shlex.quote(sys.executable)))
        raise Fail(M("import torch failed: {error}", error=_short(exc)),
                   M("a dependency of torch is missing or mismatched; reinstall: {fix}",
                     fix=install_fix(shlex.quote(sys.executable))))
    except Exception as exc:  # OSError for a missing libcudart, etc.
        ctx.import_error = exc
        raise Fail(M("import torch failed: {error}", error=_short(exc)),
                   M("reinstall torch in this environment: {fix}", fix=install_fix(shlex.quote(sys.executable))))
    ctx.torch = torch
    _load_numpy(ctx)
    build = _build(torch)
    return M("torch {version}, {build} build; numpy {numpy}", version=torch.__version__, build=build, numpy=ctx.numpy_note)


def _build(torch):
    hip = getattr(torch.version, "hip", None)
    if hip:
        return "ROCm %s" % hip
    if torch.version.cuda:
        return "CUDA %s" % torch.version.cuda
    return "CPU"


def _load_numpy(ctx):
    try:
        import numpy
    except ImportError:
        ctx.numpy_note = M("not installed (optional; tensor.numpy() and torch.from_numpy need it)")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.torch.from_numpy(numpy.zeros(1, dtype=numpy.float32))
        ctx.numpy = numpy
        ctx.numpy_note = M("{version}, interop ok", version=numpy.__version__)
    except Exception as exc:  # numpy 2 with a torch built against numpy 1: "Numpy is not available"
        ctx.numpy_note = M("{version} installed but torch cannot use it ({error})", version=numpy.__version__,
                           error=_short(exc))


def check_tensor_creation(ctx):
    torch = ctx.need_torch()
    data = [[1, 2], [3, 4]]
    x = torch.tensor(data)
    expect(x.tolist() == data, M("torch.tensor(data) returned {value}", value=repr(x.tolist())))
    expect(tuple(x.shape) == (2, 2) and x.dtype == torch.int64 and x.device.type == "cpu",
           M("attributes: shape {shape} dtype {dtype} device {device}", shape=tuple(x.shape), dtype=x.dtype,
             device=x.device))
    notes = []
    if ctx.numpy is not None:
        np = ctx.numpy
        a = np.array(data, dtype=np.float32)
        t = torch.from_numpy(a)
        expect(t.dtype == torch.float32 and t.tolist() == a.tolist(), M("torch.from_numpy changed the values or dtype"))
        a[0, 0] = 100.0
        expect(t[0, 0].item() == 100.0, M("torch.from_numpy does not share memory with the array"))
        copied = torch.tensor(a)
        a[0, 1] = -7.0
        expect(copied[0, 1].item() == 2.0, M("torch.tensor(ndarray) should copy but shares memory"))
        expect(t.numpy()[0, 1] == -7.0, M("tensor.numpy() does not share memory"))
        notes.append(M("from_numpy shares memory"))
    elif "cannot use" in (ctx.numpy_note or ""):
        raise Fail(M("numpy interop is broken: {note}", note=ctx.numpy_note),
                   M("install a numpy this torch was built for (for old torch: pip install 'numpy<2'), or "
                     "upgrade torch (`envcheck install`)"))
    else:
        notes.append(M("numpy not installed, from_numpy not tested"))
    ones = torch.ones_like(x)
    expect(ones.shape == x.shape and ones.dtype == x.dtype and int(ones.sum()) == 4, M("ones_like is wrong"))
    r = torch.rand_like(x, dtype=torch.float32)
    expect(r.shape == x.shape and r.dtype == torch.float32 and bool(((r >= 0) & (r < 1)).all()),
           M("rand_like is out of [0, 1) or has the wrong shape/dtype"))
    for fn, fill in ((torch.rand, None), (torch.zeros, 0.0), (torch.ones, 1.0)):
        t = fn(2, 3)
        expect(tuple(t.shape) == (2, 3) and t.dtype == torch.float32,
               M("{fn}(2, 3) has shape {shape} dtype {dtype}", fn=fn.__name__, shape=tuple(t.shape), dtype=t.dtype))
        if fill is not None:
            expect(bool((t == fill).all()), M("{fn}(2, 3) is not all {fill}", fn=fn.__name__, fill=fill))
    expect(torch.zeros(2, dtype=torch.float64).dtype == torch.float64, M("dtype= is ignored"))
    eye = torch.eye(3)
    expect(float(eye.diagonal().sum()) == 3.0 and float(eye.sum()) == 3.0, M("eye(3) is not the identity"))
    expect(torch.arange(0, 10, 2).tolist() == [0, 2, 4, 6, 8], M("arange(0, 10, 2) is wrong"))
    lin = torch.linspace(0, 1, 5).tolist()
    expect(all(abs(a - b) < 1e-6 for a, b in zip(lin, [0, 0.25, 0.5, 0.75, 1.0])), M("linspace(0, 1, 5) = {value}", value=repr(lin)))
    g = torch.Generator().manual_seed(0)
    n = torch.normal(0.0, 1.0, size=(4096,), generator=g)
    mean, std = float(n.mean()), float(n.std())
    expect(abs(mean) < 0.1 and 0.9 < std < 1.1, M("normal(0, 1) has mean {mean:.3f} std {std:.3f}", mean=mean, std=std))
    perm = torch.randperm(10, generator=g)
    expect(sorted(perm.tolist()) == list(range(10)), M("randperm(10) is not a permutation"))
    notes.append(M("tensor, *_like, rand/zeros/ones, eye, arange, linspace, normal, randperm"))
    return _joined(notes)


def check_tensor_operations(ctx):
    torch = ctx.need_torch()
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    expected = [[11.0, 22.0], [33.0, 44.0]]
    out = torch.empty(2, 2)
    torch.add(x, y, out=out)
    for how, value in (("x + y", x + y), ("torch.add(x, y)", torch.add(x, y)), ("torch.add(out=)", out)):
        expect(value.tolist() == expected, M("{how} gave {value}", how=how, value=repr(value.tolist())))
    z = x.clone()
    ptr = z.data_ptr()
    z.add_(y)
    expect(z.tolist() == expected and z.data_ptr() == ptr, M("add_ is not in place"))
    col = z[:, 1]
    col[0] = -1.0
    expect(z[0, 1].item() == -1.0, M("indexing z[:, 1] does not share memory"))
    v = z.view(4)
    v[0] = 99.0
    expect(z[0, 0].item() == 99.0 and v.data_ptr() == z.data_ptr(), M("view() does not share memory"))
    w = z.clone().view(4)
    w[3] = 123.0
    expect(z[1, 1].item() != 123.0, M("clone().view() shares memory with the original"))
    a = torch.arange(6)
    expect(tuple(a.reshape(2, 3).shape) == (2, 3) and tuple(a.reshape(-1, 2).shape) == (3, 2), M("reshape is wrong"))
    expect(a.reshape(2, 3)[1, 0].item() == 3, M("reshape is not row-major"))
    t = torch.zeros(1, 3, 1)
    expect(tuple(t.squeeze().shape) == (3,) and tuple(t.squeeze(0).shape) == (3, 1), M("squeeze is wrong"))
    u = torch.zeros(3)
    expect(tuple(u.unsqueeze(0).shape) == (1, 3) and tuple(u.unsqueeze(1).shape) == (3, 1), M("unsqueeze is wrong"))
    return M("3 ways to add agree, add_ in place, index/view share memory, clone() does not, reshape, (un)squeeze")


def check_broadcasting(ctx):
    torch = ctx.need_torch()
    cases = (((5, 1, 4, 1), (3, 1, 1), (5, 3, 4, 1)), ((5, 3, 4, 1), (3, 1, 1), (5, 3, 4, 1)), ((1,), (3, 1, 7), (3, 1, 7)))
    for a, b, want in cases:
        got = tuple((torch.ones(*a) + torch.ones(*b)).shape)
        expect(got == want, M("{a} + {b} broadcast to {got}, expected {want}", a=a, b=b, got=got, want=want))
    grid = torch.arange(3).view(3, 1) * 10 + torch.arange(4).view(1, 4)
    expect(grid.tolist() == [[10 * i + j for j in range(4)] for i in range(3)], M("broadcast values are wrong"))
    for a, b in (((5, 2, 4, 1), (3, 1, 1)), ((2, 3), (3, 2))):
        try:
            torch.ones(*a) + torch.ones(*b)
        except RuntimeError:
            continue
        raise Fail(M("{a} + {b} should raise (incompatible) but did not", a=a, b=b))
    try:
        torch.ones(3, 1).add_(torch.ones(3, 4))
    except RuntimeError:
        pass
    else:
        raise Fail(M("an in-place add that would change the shape should raise"))
    return M("compatible shapes broadcast to the expected shape and values; incompatible ones raise")


def check_autograd(ctx):
    torch = ctx.need_torch()
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    expect(x.is_leaf and x.grad_fn is None, M("a leaf tensor has grad_fn {grad_fn}", grad_fn=repr(x.grad_fn)))
    y = x * 2
    name = type(y.grad_fn).__name__
    expect(name == "MulBackward0", M("y = x * 2 has grad_fn {name}, expected MulBackward0", name=name))
    (x ** 2).sum().backward()
    expect(x.grad.tolist() == [2.0, 4.0, 6.0], M("d/dx sum(x^2) = {value}, expected 2x", value=repr(x.grad.tolist())))
    x.grad.zero_()
    try:
        y.backward()
    except RuntimeError:
        pass
    else:
        raise Fail(M("backward() on a non-scalar without a gradient argument should raise"))
    v = torch.tensor([0.1, 1.0, 0.0001])
    _backward_with_grad(torch, y, v)  # J = 2I, so J^T v = 2v
    expect(torch.allclose(x.grad, 2 * v), M("J^T v = {got}, expected {want}", got=repr(x.grad.tolist()), want=repr((2 * v).tolist())))
    x.grad.zero_()
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    expect(x.grad.tolist() == [6.0, 6.0, 6.0], M("gradients did not accumulate over two backward calls"))
    x.grad.zero_()
    expect(x.grad.tolist() == [0.0, 0.0, 0.0], M("grad.zero_() did not reset"))
    with torch.no_grad():
        expect(not (x * 2).requires_grad, M("no_grad() still tracks"))
    d = x.detach()
    expect(not d.requires_grad and d.data_ptr() == x.data_ptr(), M("detach() still tracks or copies"))
    a = torch.ones(2)
    expect(a.requires_grad_().requires_grad and not a.requires_grad_(False).requires_grad, M("requires_grad_ does not toggle"))
    w = torch.ones(3, requires_grad=True)
    version = w._version
    w.data.mul_(5)
    expect(w.grad_fn is None and w._version == version and w.tolist() == [5.0, 5.0, 5.0],
           M("writing through .data was recorded by autograd"))
    try:
        w.add_(1)
    except RuntimeError:
        pass
    else:
        raise Fail(M("an in-place op on a leaf that requires grad should raise"))
    return M("leaf, MulBackward0, scalar and J^T v backward, accumulation and zero_, no_grad/detach, "
             "requires_grad_, .data untracked")


def _backward_with_grad(torch, y, v):
    """y.backward(v), minus its Python-side shape validation.

    In torch 2.x, Tensor.backward(gradient) validates the gradient's shape with helpers that lazily
    import torch.fx.experimental.symbolic_shapes (~0.5 s, a third of `import torch`) the first time.
    The vector-Jacobian product itself is the C++ engine call below, which is what this check proves;
    older torch without that entry point takes the public path.
    """
    engine = getattr(getattr(torch.autograd, "graph", None), "_engine_run_backward", None)
    if engine is None or tuple(v.shape) != tuple(y.shape):
        return y.backward(v)
    return engine((y,), (v,), False, False, (), allow_unreachable=True, accumulate_grad=True)


def _cuda_word(torch):
    return "ROCm/HIP" if getattr(torch.version, "hip", None) else "CUDA"


def _cuda_unavailable(ctx, caught):
    torch = ctx.torch
    driver_gpus, expected = ctx.driver_counts()
    py = sys.executable
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not torch.version.cuda and not getattr(torch.version, "hip", None):
        fix = M("for GPU work install a CUDA build: {fix}", fix=install_fix(shlex.quote(py)))
        if (driver_gpus or 0) > 0:
            return (M("torch {version} is a CPU-only build although the driver reports {count} GPU(s)",
                      version=torch.__version__, count=driver_gpus), fix)
        return M("torch {version} is a CPU-only build", version=torch.__version__), fix
    if cvd is not None and cvd.strip() in ("", "-1", "none", "NoDevFiles"):
        return (M("CUDA_VISIBLE_DEVICES={cvd!r} hides every GPU", cvd=cvd),
                M("unset CUDA_VISIBLE_DEVICES or list a GPU index"))
    if cvd is not None and expected == 0 and (driver_gpus or 0) > 0:
        return (M("CUDA_VISIBLE_DEVICES={cvd!r} leaves none of the driver's {count} GPU(s) visible", cvd=cvd,
                  count=driver_gpus),
                M("use indices 0..{last} or UUIDs as `nvidia-smi -L` lists them", last=driver_gpus - 1))
    detail = ""
    if caught:
        detail = ": " + str(caught[-1].message).strip().splitlines()[0]
    if not driver_gpus:
        return (M("no NVIDIA GPU or driver detected (torch {version}, {build} build){detail}", version=torch.__version__,
                  build=_build(torch), detail=detail),
                M("install the NVIDIA driver (check with `nvidia-smi`), or run `envcheck doctor`"))
    return (M("torch.cuda.is_available() is False although the driver reports {count} GPU(s){detail}",
              count=driver_gpus, detail=detail),
            M("run `envcheck doctor`: the driver may be too old for {runtime} {version}", runtime=_cuda_word(torch),
              version=torch.version.cuda))


def check_cuda_available(ctx):
    torch = ctx.need_torch()
    opts = ctx.opts
    if opts.device in ("cpu", "mps") and not opts.require_cuda:
        raise Skip(M("--device {device}", device=opts.device))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    if not available:
        message, fix = _cuda_unavailable(ctx, ctx.cuda_warnings + list(caught))
        if opts.require_cuda or opts.device == "cuda":
            raise Fail(message, fix)
        raise Skip(message)
    count = torch.cuda.device_count()
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return M("{runtime} {version} runtime, {count} device(s), cuDNN {cudnn}", runtime=_cuda_word(torch),
             version=torch.version.hip or torch.version.cuda, count=count, cudnn=cudnn if cudnn else M("not available"))


def _cuda_ready(ctx):
    torch = ctx.need_torch()
    if ctx.opts.device in ("cpu", "mps") and not ctx.opts.require_cuda:
        raise Skip(M("--device {device}", device=ctx.opts.device))
    if not torch.cuda.is_available():
        raise Skip(M("CUDA is not available (see cuda-available)"))
    return torch


def check_cuda_device_count(ctx):
    torch = _cuda_ready(ctx)
    count = torch.cuda.device_count()
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    shown = M("unset") if cvd is None else repr(cvd)
    driver_gpus, expected = ctx.driver_counts()
    if expected is None or expected < 0:
        return M("torch sees {count} device(s) (CUDA_VISIBLE_DEVICES {cvd}; the driver's count is unknown)",
                 count=count, cvd=shown)
    expect(count == expected,
           M("torch sees {count} device(s) but the driver reports {gpus} GPU(s), {visible} visible with "
             "CUDA_VISIBLE_DEVICES {cvd}", count=count, gpus=driver_gpus, visible=expected, cvd=shown),
           M("check CUDA_VISIBLE_DEVICES (indices/UUIDs from `nvidia-smi -L`); `envcheck doctor` explains it"))
    return M("torch sees {count} device(s), as the driver reports (CUDA_VISIBLE_DEVICES {cvd})", count=count, cvd=shown)


def check_cuda_arch(ctx, index):
    torch = _cuda_ready(ctx)
    props = torch.cuda.get_device_properties(index)
    capability = (props.major, props.minor)
    arch_list = torch.cuda.get_arch_list()
    name = M("{gpu}, compute capability {major}.{minor}", gpu=props.name, major=props.major, minor=props.minor)
    if getattr(torch.version, "hip", None):
        gcn = getattr(props, "gcnArchName", "") or ""
        base = gcn.split(":")[0]
        expect(not arch_list or base in arch_list,
               M("{gpu} ({gcn}): this ROCm build has kernels for {archs} only", gpu=name, gcn=gcn,
                 archs=", ".join(arch_list)),
               M("install a ROCm build of torch that supports {arch} (`envcheck install`)", arch=base))
        return M("{gpu} ({gcn}) covered by the build", gpu=name, gcn=gcn)
    covered, how = arch_coverage(capability, arch_list)
    expect(covered,
           M("{gpu} is not covered by this build ({archs}): {how}. Kernels will fail with \"no kernel image is "
             "available for execution on the device\"", gpu=name, archs=" ".join(arch_list), how=how),
           M("install a torch build whose CUDA version supports sm_{major}{minor}: {fix}", major=props.major,
             minor=props.minor, fix=install_fix(shlex.quote(sys.executable))))
    return M("{gpu}, {memory:.1f} GiB: {how}", gpu=name, memory=props.total_memory / 2.0 ** 30, how=how)


def check_cuda_compute(ctx, index):
    torch = _cuda_ready(ctx)
    dev = torch.device("cuda", index)
    try:
        a = torch.ones(256, device=dev)
        expect(a.device == dev, M("allocation landed on {device}", device=a.device))
        b = a * 2 + 1
        expect(float(b.sum().item()) == 768.0, M("elementwise kernel: sum(ones * 2 + 1) = {value}", value=b.sum().item()))
        g = torch.Generator().manual_seed(0)
        m1 = torch.randn(64, 64, generator=g)
        m2 = torch.randn(64, 64, generator=g)
        on_dev = (m1.to(dev) @ m2.to(dev)).cpu()
        expect(torch.allclose(on_dev, m1 @ m2, rtol=1e-2, atol=1e-2),
               M("matmul differs from the CPU result (max abs diff {diff:.3g})", diff=float((on_dev - m1 @ m2).abs().max())))
        r = torch.arange(1000, dtype=torch.float32, device=dev)
        expect(float(r.sum().item()) == 499500.0 and float(r.max().item()) == 999.0, M("reduction is wrong"))
        w = torch.randn(8, device=dev, requires_grad=True)
        (w ** 2).sum().backward()
        expect(w.grad is not None and w.grad.device == dev and torch.allclose(w.grad, 2 * w.detach()),
               M("backward on the device gave the wrong gradient"))
        host = torch.arange(10.0)
        back = host.cuda(index)
        expect(back.is_cuda and back.cpu().equal(host), M(".cuda() / .cpu() round trip changed the data"))
        expect(host.to(dev).to("cpu").equal(host), M(".to(device) round trip changed the data"))
        torch.cuda.synchronize(index)
    except RuntimeError as exc:
        raise Fail(M("{error} on cuda:{index}: {detail}", error=exc.__class__.__name__, index=index,
                     detail=str(exc).strip().splitlines()[0]),
                   _fix_for_runtime_error(str(exc), ctx))
    return M("allocation, elementwise, matmul == CPU, reduction, backward, round trip, synchronize")


def check_cudnn_conv(ctx, index):
    torch = _cuda_ready(ctx)
    if not torch.backends.cudnn.is_available():
        raise Skip(M("cuDNN is not available in this torch build"))
    if not torch.backends.cudnn.enabled:
        raise Skip(M("cuDNN is disabled (torch.backends.cudnn.enabled = False)"))
    import torch.nn.functional as F
    dev = torch.device("cuda", index)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 16, 16, generator=g)
    k = torch.randn(4, 3, 3, 3, generator=g)
    try:
        xd = x.to(dev).requires_grad_()
        kd = k.to(dev).requires_grad_()
        out = F.conv2d(xd, kd, padding=1)
        out.sum().backward()
        torch.cuda.synchronize(index)
    except RuntimeError as exc:
        raise Fail(M("cuDNN convolution failed on cuda:{index}: {detail}", index=index,
                     detail=str(exc).strip().splitlines()[0]),
                   _fix_for_runtime_error(str(exc), ctx) or M("reinstall torch with the command from `envcheck install`"))
    expect(tuple(out.shape) == (2, 4, 16, 16), M("conv2d output shape {shape}", shape=tuple(out.shape)))
    expect(torch.allclose(out.detach().cpu(), F.conv2d(x, k, padding=1), rtol=1e-2, atol=1e-2),
           M("cuDNN conv2d differs from the CPU result"))
    expect(xd.grad is not None and kd.grad is not None and tuple(kd.grad.shape) == (4, 3, 3, 3),
           M("conv2d backward produced no gradients"))
    return M("cuDNN {version} conv2d forward + backward match the CPU", version=torch.backends.cudnn.version())


def check_mps(ctx):
    torch = ctx.need_torch()
    opts = ctx.opts
    if opts.device in ("cpu", "cuda"):
        raise Skip(M("--device {device}", device=opts.device))
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        if sys.platform != "darwin":
            reason = M("MPS exists only on Apple silicon macOS")
        elif mps is not None and not mps.is_built():
            reason = M("this torch build has no MPS support")
        else:
            reason = M("MPS is not available (needs Apple silicon and macOS 12.3+)")
        if opts.device == "mps":
            raise Fail(reason, M("use --device auto or cpu, or install a macOS arm64 torch (`envcheck install`)"))
        raise Skip(reason)
    dev = torch.device("mps")
    g = torch.Generator().manual_seed(0)
    m1 = torch.randn(32, 32, generator=g)
    m2 = torch.randn(32, 32, generator=g)
    expect(torch.allclose((m1.to(dev) @ m2.to(dev)).cpu(), m1 @ m2, rtol=1e-3, atol=1e-3), M("matmul on mps differs from CPU"))
    a = torch.ones(100, device=dev) * 2 + 1
    expect(float(a.sum().item()) == 300.0, M("elementwise/reduction on mps is wrong"))
    w = torch.randn(8, device=dev, requires_grad=True)
    (w ** 2).sum().backward()
    expect(torch.allclose(w.grad.cpu(), 2 * w.detach().cpu()), M("backward on mps is wrong"))
    torch.mps.synchronize()
    return M("allocation, elementwise, matmul == CPU, reduction, backward, round trip on mps")


def check_xpu(ctx):
    """Intel GPU through torch.xpu (torch >= 2.5 XPU builds); skips where torch has no XPU."""
    torch = ctx.need_torch()
    if ctx.opts.device in ("cpu", "cuda", "mps"):
        raise Skip(M("--device {device}", device=ctx.opts.device))
    xpu = getattr(torch, "xpu", None)
    if xpu is None or not xpu.is_available():
        raise Skip(M("no XPU: this torch has no torch.xpu") if xpu is None else
                   M("no XPU available (a non-XPU torch build, no Intel GPU, or its driver is missing)"))
    dev = torch.device("xpu")
    g = torch.Generator().manual_seed(0)
    m1, m2 = torch.randn(32, 32, generator=g), torch.randn(32, 32, generator=g)
    expect(torch.allclose((m1.to(dev) @ m2.to(dev)).cpu(), m1 @ m2, rtol=1e-3, atol=1e-3), M("matmul on xpu differs from CPU"))
    xpu.synchronize()
    return M("matmul == CPU on {gpu} ({count} XPU device(s))", gpu=xpu.get_device_name(0), count=xpu.device_count())


def check_distributed(ctx):
    torch = ctx.need_torch()
    opts = ctx.opts
    if not opts.distributed:
        raise Skip(M("not requested (pass --distributed)"))
    import torch.distributed as dist
    if not dist.is_available():
        raise Fail(M("torch.distributed is not available in this build"),
                   M("install a torch build with distributed support"))
    use_nccl = (opts.device not in ("cpu", "mps") and torch.cuda.is_available()
                and torch.cuda.device_count() >= 2 and dist.is_nccl_available())
    backend = "nccl" if use_nccl else "gloo"
    if backend == "gloo" and not dist.is_gloo_available():
        raise Fail(M("the gloo backend is not available in this build"),
                   M("install an official torch build (`envcheck install`)"))
    budget = max(1.0, min(opts.timeout * 0.8, opts.timeout - 2.0))
    tmp = tempfile.mkdtemp(prefix="envcheck-dist-")
    store = os.path.join(tmp, "store")
    env = dict(os.environ)
    if sys.platform.startswith("linux") and "GLOO_SOCKET_IFNAME" not in env:
        env["GLOO_SOCKET_IFNAME"] = "lo"  # loopback: containers often have a hostname that does not resolve
    procs = []
    try:
        for rank in range(2):
            argv = [sys.executable, os.path.abspath(__file__), "--dist-worker", "--rank", str(rank),
                    "--world-size", "2", "--backend", backend, "--init", "file://" + store,
                    "--timeout", str(budget)]
            procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp))
        deadline = time.time() + budget
        outputs = []
        for rank, proc in enumerate(procs):
            try:
                out, err = proc.communicate(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                raise Fail(M("all_reduce over {backend} did not finish within {seconds:.0f} s (rank {rank} hung)",
                             backend=backend, seconds=budget, rank=rank),
                           M("check that localhost networking works (GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME) "
                             "and rerun with NCCL_DEBUG=INFO"))
            outputs.append((proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")))
        for rank, (code, out, err) in enumerate(outputs):
            tail = (err.strip().splitlines() or [""])[-1]
            expect(code == 0, M("rank {rank} exited with status {code}: {tail}", rank=rank, code=code, tail=tail),
                   M("rerun with NCCL_DEBUG=INFO / TORCH_DISTRIBUTED_DEBUG=DETAIL for details"))
            result = out.strip().splitlines()[-1] if out.strip() else ""
            expect(result == "3.0", M("rank {rank}: all_reduce(sum) of 1 and 2 gave {result!r}, expected 3.0", rank=rank, result=result))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for name in os.listdir(tmp):
            try:
                os.unlink(os.path.join(tmp, name))
            except OSError:
                pass
        try:
            os.rmdir(tmp)
        except OSError:
            pass
    where = M("cuda:0 and cuda:1") if backend == "nccl" else "CPU"
    return M("2 processes all_reduce(sum) = 3.0 through {backend} on {where}", backend=backend, where=where)


def dist_worker(opts):
    """One rank of the distributed check: all_reduce(rank + 1) and print the sum."""
    import datetime
    import torch
    import torch.distributed as dist
    dist.init_process_group(opts.backend, init_method=opts.init, rank=opts.rank, world_size=opts.world_size,
                            timeout=datetime.timedelta(seconds=max(1.0, opts.timeout)))
    try:
        t = torch.tensor([opts.rank + 1.0])
        if opts.backend == "nccl":
            torch.cuda.set_device(opts.rank)
            t = t.cuda(opts.rank)
        dist.all_reduce(t)
        sys.stdout.write("%s\n" % float(t.item()))
        sys.stdout.flush()
    finally:
        dist.destroy_process_group()
    return 0


# --------------------------------------------------------------------------- levels and limits


LEVELS = (1, 2, 3)  # 3: measured performance, compared by the host with the datasheet (perf-* checks)
DEFAULT_IMPORT_TIMEOUT_S = 300.0


def import_limit(opts):
    """`import torch` gets its own, generous limit (a cold CUDA build on a loaded or network disk can
    take minutes); it is never charged to a check's --timeout."""
    if opts.import_timeout:
        return max(opts.import_timeout, 1.0)
    return max(DEFAULT_IMPORT_TIMEOUT_S, opts.timeout)


# --------------------------------------------------------------------------- companion packages

PYTORCH_WHL = "https://download.pytorch.org/whl"
COMPANIONS = ("torchvision", "torchaudio")


def load_expect(text, wait_s=0.0):
    """--expect: inline JSON or a file path holding it -> dict ({} when absent or unreadable).

    The host writes the file while this process imports torch: wait up to `wait_s` for it."""
    if not text:
        return {}
    try:
        if text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            deadline = time.time() + wait_s
            while not os.path.exists(text) and time.time() < deadline:
                time.sleep(0.02)
            with open(text) as fh:
                data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def select_release(table, torch_version):
    """The matrix row for this torch ('2.13.0+cpu' -> the '2.13.0' row) as a flat dict (pure).

    table: {"releases": {"2.13.0": {"torchvision": ..., "torchaudio": ..., "default_index": ...,
    "pip_style": ...}}} or one row given inline; unknown release -> {}."""
    releases = table.get("releases")
    if not isinstance(releases, dict):
        return dict(table) if table.get("torch") else {}
    row = releases.get(public_version(torch_version))
    if not isinstance(row, dict):
        return {}
    out = dict(row)
    out["torch"] = public_version(torch_version)
    return out


def public_version(version):
    return (version or "").split("+", 1)[0]


def local_suffix(version):
    """'0.28.0+cu130' -> 'cu130'; '0.28.0' -> None."""
    if not version or "+" not in version:
        return None
    return version.split("+", 1)[1] or None


def build_tag(local, default_index):
    """The build a wheel was made for: its +suffix, else the default index's build for this OS
    (what a plain `pip install` of that release gets), else None (unknown)."""
    return local or default_index or None


def tag_from_torch(version, cuda, hip):
    """The installed torch's build tag from its own answers: 'cpu', 'cu130', 'rocm6.2'."""
    local = local_suffix(version)
    if local:
        return local
    if hip:
        return "rocm" + ".".join(str(hip).split(".")[:2])
    if cuda:
        return "cu" + str(cuda).replace(".", "")
    return "cpu"


def read_version_py(directory):
    """The literal `__version__` in PACKAGE/version.py, read without importing the package.

    torchvision's and torchaudio's version.py carry the build's local suffix ('0.28.0+cu130') even
    when the wheel's METADATA version has none (the default-index wheels)."""
    path = os.path.join(directory, "version.py")
    try:
        with open(path, "r") as fh:
            source = fh.read()
    except (OSError, UnicodeError):
        return None
    m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", source, re.M)
    return m.group(1) if m else None


def find_package_dir(name):
    """The package directory the import system would use, without importing it; None if absent."""
    import importlib.util
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return locations[0]
    return os.path.dirname(spec.origin) if spec.origin else None


def reinstall_command(python, package, version, tag, expect):
    """The exact pip line that installs `package==version` built for `tag` (the torch's build).

    PyTorch's own indexes: since 2.0 `--index-url https://download.pytorch.org/whl/<tag>`; 1.11 to
    1.13 `==X+tag --extra-index-url`; up to 1.10 `==X+tag -f .../torch_stable.html` (the matrix's
    `pip_style`, configs/torch_releases.json). A tag equal to the release's default index needs none.
    """
    argv = [python, "-m", "pip", "install", "--force-reinstall", "--no-deps"]
    style = expect.get("pip_style") or "index-url"
    default = expect.get("default_index")
    if not tag or tag == default:
        argv.append("%s==%s" % (package, version))
    elif style == "find-links":
        argv += ["%s==%s+%s" % (package, version, tag), "-f", PYTORCH_WHL + "/torch_stable.html"]
    elif style == "extra-index-url":
        argv += ["%s==%s+%s" % (package, version, tag), "--extra-index-url", "%s/%s" % (PYTORCH_WHL, tag)]
    else:
        argv += ["%s==%s" % (package, version), "--index-url", "%s/%s" % (PYTORCH_WHL, tag)]
    return " ".join(shlex.quote(a) for a in argv)


def companion_state(ctx, name):
    """{'dir', 'version' (version.py, with suffix), 'tag'} for an installed companion, else None."""
    cache = ctx.companions
    if name not in cache:
        directory = find_package_dir(name)
        if directory is None:
            cache[name] = None
        else:
            version = read_version_py(directory)
            cache[name] = {"dir": directory, "version": version,
                           "tag": build_tag(local_suffix(version), ctx.expect.get("default_index"))}
    return cache[name]


def torch_tag(ctx):
    torch = ctx.torch
    return tag_from_torch(torch.__version__, torch.version.cuda, getattr(torch.version, "hip", None))


def pairing_problems(torch_version, torch_build, companions, expect):
    """PURE. Which installed companions do not belong with this torch: a list of
    (package, message, expected_version, reason) where reason is 'version' or 'build'.

    companions: {name: {'version': '0.28.0+cu130', 'tag': 'cu130'}}; expect: the matrix row
    ({'torch', 'torchvision', 'torchaudio', 'default_index'}), may be empty (then versions are not judged).
    """
    out = []
    for name in COMPANIONS:
        state = companions.get(name)
        if not state or not state.get("version"):
            continue
        installed = public_version(state["version"])
        wanted = expect.get(name)
        if wanted and installed != wanted:
            out.append((name, M("{name} {installed} does not belong with torch {torch} (the release pairs it with "
                                "{name} {wanted})", name=name, installed=installed, torch=torch_version, wanted=wanted),
                        wanted, "version"))
            continue
        tag = state.get("tag")
        if tag and torch_build and tag != torch_build:
            out.append((name, M("{name} {version} is a {build} build but torch {torch} is a {torch_build} build",
                                name=name, version=state["version"], build=_tag_word(tag), torch=torch_version,
                                torch_build=_tag_word(torch_build)),
                        wanted or installed, "build"))
    return out


def _tag_word(tag):
    if tag == "cpu":
        return "CPU"
    m = re.match(r"^cu(\d+)(\d)$", tag or "")
    if m:
        return "CUDA %d.%s" % (int(m.group(1)), m.group(2))
    return tag


def _companion_fix(ctx, name):
    state = companion_state(ctx, name)
    wanted = ctx.expect.get(name) or public_version((state or {}).get("version")) or None
    if not wanted:
        if not state:
            return M("install {name} for torch {torch}: {fix}", name=name, torch=ctx.torch.__version__,
                     fix=install_fix(shlex.quote(sys.executable)))
        return M("reinstall {name} for torch {torch}: {fix}", name=name, torch=ctx.torch.__version__,
                 fix=install_fix(shlex.quote(sys.executable)))
    command = reinstall_command(sys.executable, name, wanted, torch_tag(ctx), ctx.expect)
    if not state:
        return M("install {name} built like torch {torch}: `{command}`", name=name, torch=ctx.torch.__version__,
                 command=command)
    return M("reinstall {name} built like torch {torch}: `{command}`", name=name, torch=ctx.torch.__version__,
             command=command)


def check_companion_pairing(ctx):
    torch = ctx.need_torch()
    states = dict((n, companion_state(ctx, n)) for n in COMPANIONS)
    installed = [n for n in COMPANIONS if states[n]]
    if not installed:
        raise Skip(M("neither torchvision nor torchaudio is installed"))
    problems = pairing_problems(torch.__version__, torch_tag(ctx), states, ctx.expect)
    if problems:
        raise Fail(_joined([p[1] for p in problems]), _joined([_companion_fix(ctx, p[0]) for p in problems]))
    basis = M("versions from envcheck's matrix") if ctx.expect.get("torch") else \
        M("builds only (torch {torch} is not in envcheck's matrix)", torch=torch.__version__)
    return M("{companions} pair with torch {torch} ({basis})", torch=torch.__version__, basis=basis,
             companions=", ".join("%s %s" % (n, states[n]["version"] or "(version unknown)") for n in installed))


def _companion_missing(ctx, name):
    """A companion that is not installed: a skip, or a failure when the host said it must be there
    (--require: `verify --require-package`, or `install --execute` for what it just installed)."""
    if name in required(ctx):
        raise Fail(M("{name} is required here, but {python} does not find it", name=name, python=sys.executable),
                   _companion_fix(ctx, name))
    raise Skip(M("{name} is not installed", name=name))


def required(ctx):
    return set(n for n in (getattr(ctx.opts, "require", "") or "").split(",") if n)


def _import_companion(ctx, name):
    ctx.need_torch()
    if not companion_state(ctx, name):
        _companion_missing(ctx, name)
    if name in ctx.companion_modules:
        return ctx.companion_modules[name]
    try:
        module = __import__(name)
    except Exception as exc:
        ctx.companion_modules[name] = None
        raise Fail(M("import {name} failed: {error}", name=name, error=_short(exc)), _companion_fix(ctx, name))
    ctx.companion_modules[name] = module
    return module


def _companion_ready(ctx, name):
    ctx.need_torch()
    if not companion_state(ctx, name):
        if name in required(ctx):
            raise Skip(M("not run: {name} was not found (see {name}-import)", name=name))
        raise Skip(M("{name} is not installed", name=name))
    if name not in ctx.companion_modules:
        _import_companion(ctx, name)
    module = ctx.companion_modules.get(name)
    if module is None:
        raise Skip(M("{name} did not import (see {name}-import)", name=name))
    return module


def check_torchvision_import(ctx):
    tv = _import_companion(ctx, "torchvision")
    return M("torchvision {version} from {path}", version=tv.__version__, path=os.path.dirname(tv.__file__))


def check_torchaudio_import(ctx):
    ta = _import_companion(ctx, "torchaudio")
    return M("torchaudio {version} from {path}", version=ta.__version__, path=os.path.dirname(ta.__file__))


def devices_under_test(ctx):
    """'cpu' always; at level 1 the chosen accelerator's first device, at level 2 every device."""
    torch = ctx.torch
    out = ["cpu"]
    if ctx.device == "cuda" and torch.cuda.is_available():
        count = torch.cuda.device_count()
        out += ["cuda:%d" % i for i in range(count if ctx.opts.level >= 2 else min(count, 1))]
    elif ctx.device == "mps":
        out.append("mps")
    return out


def check_torchvision_ops(ctx):
    tv = _companion_ready(ctx, "torchvision")
    torch = ctx.torch
    from torchvision.ops import nms
    import torchvision.transforms.functional as TF
    done = []
    for dev in devices_under_test(ctx):
        try:
            boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]], device=dev)
            scores = torch.tensor([0.9, 0.8, 0.7], device=dev)
            keep = nms(boxes, scores, 0.5).cpu().tolist()
            expect(keep == [0, 2], M("torchvision.ops.nms on {device} kept {keep}, expected [0, 2]", device=dev, keep=repr(keep)))
            img = torch.arange(2 * 4 * 4, dtype=torch.float32, device=dev).reshape(2, 4, 4)
            flipped = TF.hflip(img)
            expect(bool((flipped[..., 0] == img[..., -1]).all()), M("hflip on {device} is wrong", device=dev))
            try:
                small = TF.resize(img.unsqueeze(0), [2, 2], antialias=False)
            except TypeError:  # torchvision < 0.13 has no antialias argument
                small = TF.resize(img.unsqueeze(0), [2, 2])
            expect(tuple(small.shape) == (1, 2, 2, 2), M("resize on {device} gave shape {shape}", device=dev, shape=tuple(small.shape)))
        except RuntimeError as exc:
            raise Fail(M("torchvision op failed on {device}: {error}", device=dev, error=_short(exc)),
                       _fix_for_runtime_error(str(exc), ctx) or _companion_fix(ctx, "torchvision"))
        done.append(dev)
    return M("torchvision {version}: nms, hflip, resize on {devices}", version=tv.__version__, devices=", ".join(done))


def check_torchaudio_ops(ctx):
    ta = _companion_ready(ctx, "torchaudio")
    torch = ctx.torch
    import math
    import torchaudio.transforms as T
    done = []
    rate, freq = 8000, 1000.0
    for dev in devices_under_test(ctx):
        try:
            t = torch.arange(rate, dtype=torch.float32, device=dev) / rate
            wave = torch.sin(2 * math.pi * freq * t).unsqueeze(0)
            spec = T.Spectrogram(n_fft=256).to(dev)(wave)
            peak = int(spec.mean(dim=-1)[0].argmax().item())
            want = int(round(freq / rate * 256))
            expect(abs(peak - want) <= 1, M("Spectrogram on {device} peaks at bin {peak}, expected {want}", device=dev, peak=peak, want=want))
            res = T.Resample(rate, rate // 2).to(dev)(wave)
            expect(abs(res.shape[-1] - rate // 2) <= 1, M("Resample on {device} gave {count} samples", device=dev, count=int(res.shape[-1])))
        except RuntimeError as exc:
            raise Fail(M("torchaudio transform failed on {device}: {error}", device=dev, error=_short(exc)),
                       _fix_for_runtime_error(str(exc), ctx) or _companion_fix(ctx, "torchaudio"))
        done.append(dev)
    return M("torchaudio {version}: Spectrogram (1 kHz peak found), Resample on {devices}", version=ta.__version__,
             devices=", ".join(done))


# --------------------------------------------------------------------------- level 2: sizes that matter


def check_matmul_large(ctx, dev):
    torch = ctx.need_torch()
    g = torch.Generator().manual_seed(1)
    n = 1024
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    try:
        if dev == "cpu":  # the CPU itself is under test: compare float32 with a float64 reference
            ref = (a.double() @ b.double()).float()
            got = a @ b
        else:
            ref = a @ b
            got = (a.to(dev) @ b.to(dev)).cpu()
    except RuntimeError as exc:
        raise Fail(M("{n}x{n} matmul on {device}: {error}", n=n, device=dev, error=_short(exc)),
                   _fix_for_runtime_error(str(exc), ctx))
    diff = float((got - ref).abs().max())
    # float32 sums of 1024 products of N(0,1) values; TF32 on Ampere+ keeps ~10 bits of mantissa
    expect(torch.allclose(got, ref, rtol=2e-2, atol=0.5),
           M("{n}x{n} matmul on {device} differs from the reference by {diff:.3g}", n=n, device=dev, diff=diff))
    if dev == "cpu":
        return M("{n}x{n} float32 matmul on {device} matches the float64 reference (max abs diff {diff:.2g})",
                 n=n, device=dev, diff=diff)
    return M("{n}x{n} float32 matmul on {device} matches the CPU (max abs diff {diff:.2g})", n=n, device=dev, diff=diff)


def check_conv_large(ctx, dev):
    torch = ctx.need_torch()
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(2)
    x = torch.randn(8, 32, 64, 64, generator=g)
    k = torch.randn(64, 32, 3, 3, generator=g)
    try:
        if dev == "cpu":
            ref = F.conv2d(x.double(), k.double(), padding=1).float()
            got = F.conv2d(x, k, padding=1)
        else:
            ref = F.conv2d(x, k, padding=1)
            got = F.conv2d(x.to(dev), k.to(dev), padding=1).cpu()
    except RuntimeError as exc:
        raise Fail(M("conv2d on {device}: {error}", device=dev, error=_short(exc)), _fix_for_runtime_error(str(exc), ctx))
    diff = float((got - ref).abs().max())
    expect(tuple(got.shape) == (8, 64, 64, 64) and torch.allclose(got, ref, rtol=2e-2, atol=0.5),
           M("conv2d (8x32x64x64, 64 filters 3x3) on {device} differs from the reference by {diff:.3g}", device=dev,
             diff=diff))
    return M("conv2d 8x32x64x64 * 64x32x3x3 on {device} matches (max abs diff {diff:.2g})", device=dev, diff=diff)


def check_memory_round_trip(ctx, dev):
    torch = ctx.need_torch()
    mib = 256 if dev != "cpu" else 64  # a CPU copy proves less: keep it small enough for any runner
    n = mib * (1 << 20) // 4
    host = torch.arange(n, dtype=torch.int32)
    try:
        if dev == "cpu":
            back = host.clone()
        else:
            back = host.to(dev).to("cpu")
            if dev.startswith("cuda"):
                torch.cuda.synchronize(int(dev.split(":")[1]))
    except RuntimeError as exc:
        raise Fail(M("{mib} MiB round trip to {device}: {error}", mib=mib, device=dev, error=_short(exc)),
                   _fix_for_runtime_error(str(exc), ctx))
    expect(back.data_ptr() != host.data_ptr() and bool(torch.equal(back, host)),
           M("{mib} MiB host -> {device} -> host changed the data", mib=mib, device=dev))
    return M("{mib} MiB host -> {device} -> host, every value intact", mib=mib, device=dev) if dev != "cpu" else \
        M("{mib} MiB copy in host memory, every value intact (no accelerator)", mib=mib)


# --------------------------------------------------------------------------- several GPUs


def narrowed_visible(cvd):
    """CUDA_VISIBLE_DEVICES that leaves only the first GPU the current value leaves visible (pure).

    CUDA reads the list up to the first invalid entry; the first entry is what torch calls cuda:0.
    https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#cuda-environment-variables
    """
    if cvd is None or not cvd.strip():
        return "0"
    return cvd.split(",")[0].strip()


def _need_gpus(ctx, n):
    torch = _cuda_ready(ctx)
    count = torch.cuda.device_count()
    if count < n:
        raise Skip(M("needs {n} or more visible GPUs; torch sees {count}", n=n, count=count))
    return torch, count


def check_data_parallel(ctx):
    torch, count = _need_gpus(ctx, 2)
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).cuda(0)
    x = torch.randn(8 * count, 16, device="cuda:0")
    try:
        out_one = model(x)
        out_one.sum().backward()
        grads_one = [p.grad.detach().clone() for p in model.parameters()]
        model.zero_grad()
        dp = nn.DataParallel(model, device_ids=list(range(count)))
        out_dp = dp(x)
        out_dp.sum().backward()
        torch.cuda.synchronize()
    except RuntimeError as exc:
        raise Fail(M("nn.DataParallel over {count} GPUs: {error}", count=count, error=_short(exc)),
                   _fix_for_runtime_error(str(exc), ctx)
                   or M("check peer access and NCCL (`nvidia-smi topo -m`, NCCL_DEBUG=INFO)"))
    expect(torch.allclose(out_dp, out_one, rtol=1e-3, atol=1e-4),
           M("DataParallel forward over {count} GPUs differs from one GPU's", count=count))
    for p, g in zip(model.parameters(), grads_one):
        expect(torch.allclose(p.grad, g, rtol=1e-3, atol=1e-4), M("DataParallel backward gradients differ from one GPU's"))
    return M("nn.DataParallel forward + backward over {count} GPUs equals one GPU's", count=count)


def check_cuda_visible_devices(ctx):
    torch, count = _need_gpus(ctx, 2)
    narrowed = narrowed_visible(os.environ.get("CUDA_VISIBLE_DEVICES"))
    env = dict(os.environ)
    env["CUDA_VISIBLE_DEVICES"] = narrowed
    code = "import torch; print(torch.cuda.device_count())"
    try:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        out, err = proc.communicate(timeout=import_limit(ctx.opts))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Fail(M("a child with CUDA_VISIBLE_DEVICES={cvd} did not finish", cvd=narrowed))
    lines = out.decode("utf-8", "replace").strip().splitlines()
    seen = lines[-1].strip() if lines else ""
    expect(proc.returncode == 0 and seen == "1",
           M("with CUDA_VISIBLE_DEVICES={cvd} a child sees {seen!r} device(s), expected 1 (of {count})", cvd=narrowed,
             seen=seen or err.decode("utf-8", "replace")[-200:], count=count),
           M("CUDA_VISIBLE_DEVICES is not honoured: check for a CUDA_DEVICE_ORDER or a launcher that rewrites it; "
             "`envcheck doctor` explains the variable"))
    return M("CUDA_VISIBLE_DEVICES={cvd} leaves 1 of the {count} GPUs visible to a child, as expected", cvd=narrowed,
             count=count)




# --------------------------------------------------------------------------- level 3: measured performance
# The figures are measured by perf_check.py (next to this file, loaded by path: this suite is run by file
# path and never imports envcheck) and sent to the host in the end event ("perf"); the host compares them
# with the datasheet peaks of configs/gpu_peaks.json (envcheck/gpupeaks.py) and adds the fractions.


def _perf_module(ctx):
    mod = getattr(ctx, "perf_module", None)
    if mod is None:
        import importlib.util
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "perf_check.py")
        spec = importlib.util.spec_from_file_location("envcheck_perf_check", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        ctx.perf_module = mod
    return mod


def _perf_record(ctx, dev, metrics, skipped):
    torch = ctx.torch
    rec = {"device": dev, "name": None, "capability": None, "metrics": metrics, "skipped": skipped}
    if dev != "cpu":
        index = int(dev.split(":")[1])
        rec["name"] = torch.cuda.get_device_name(index)
        rec["capability"] = "%d.%d" % torch.cuda.get_device_capability(index)
    ctx.event_extra = {"perf": rec}
    return rec


def _perf_run(fn):
    """One measurement; an exception becomes the figure's error (the host decides what it means)."""
    try:
        return fn()
    except Exception as exc:
        return {"value": None, "error": _short(exc)}


def check_perf_matmul(ctx, dev):
    torch = ctx.need_torch()
    pc = _perf_module(ctx)
    metrics, skipped = {}, {}
    if dev == "cpu":
        metrics["cpu_matmul_fp32"] = _perf_run(lambda: pc.measure_matmul_cpu(torch))
        for k in ("matmul_tf32", "matmul_bf16", "matmul_fp16"):
            skipped[k] = M("no CUDA device: GPU matmuls not measured")
    else:
        index = int(dev.split(":")[1])
        torch.cuda.set_device(index)
        dtypes, why = pc.cuda_dtypes(torch, index)
        for k, reason in why.items():
            skipped["matmul_" + k] = reason
        for label, dtype, tf32 in dtypes:
            metrics["matmul_" + label] = _perf_run(lambda dtype=dtype, tf32=tf32: pc.measure_matmul_cuda(
                torch, torch.device(dev), dtype, tf32))
    _perf_record(ctx, dev, metrics, skipped)
    if not metrics:  # a GPU without tensor cores (before Volta): nothing this check measures
        reasons = sorted(set(skipped.values()))
        raise Skip(reasons[0] if len(reasons) == 1 else "; ".join(reasons) or M("no dtype to measure"))
    done = ["%s %.1f %s" % (k.replace("matmul_", "").replace("cpu_", "CPU ").upper(), m["value"], m["unit"])
            for k, m in metrics.items() if m.get("value") is not None]
    errors = ["%s: %s" % (k, m["error"]) for k, m in metrics.items() if m.get("value") is None]
    if not done:
        raise Fail(M("matmul throughput on {device} not measured: {errors}", device=dev,
                     errors="; ".join(errors) or M("no dtype to measure")),
                   M("free the GPU (`nvidia-smi` lists the processes using it) and rerun"))
    return M("measured on {device}: {figures}{errors}", device=dev, figures=", ".join(done),
             errors=("; " + "; ".join(errors)) if errors else "")


def check_perf_memory(ctx, dev):
    torch = ctx.need_torch()
    if dev == "cpu":
        raise Skip(M("no CUDA device: device memory bandwidth is measured on GPUs"))
    pc = _perf_module(ctx)
    torch.cuda.set_device(int(dev.split(":")[1]))
    m = _perf_run(lambda: pc.measure_device_copy(torch, torch.device(dev)))
    _perf_record(ctx, dev, {"memory_bandwidth": m}, {})
    if m.get("value") is None:
        raise Fail(M("device copy on {device} not measured: {error}", device=dev, error=m["error"]),
                   M("free the GPU (`nvidia-smi` lists the processes using it) and rerun"))
    return M("copy kernel on {device}: {value:.1f} GB/s (read + written)", device=dev, value=m["value"])


def check_perf_host(ctx, dev):
    torch = ctx.need_torch()
    if dev == "cpu":
        raise Skip(M("no CUDA device: host<->device bandwidth is measured on GPUs"))
    pc = _perf_module(ctx)
    torch.cuda.set_device(int(dev.split(":")[1]))
    try:
        h2d, d2h = pc.measure_host_device(torch, torch.device(dev))
    except Exception as exc:
        h2d = d2h = {"value": None, "error": _short(exc)}
    _perf_record(ctx, dev, {"host_to_device": h2d, "device_to_host": d2h}, {})
    if h2d.get("value") is None:
        raise Fail(M("pinned copies on {device} not measured: {error}", device=dev, error=h2d["error"]),
                   M("free the GPU and host memory and rerun"))
    return M("pinned copies on {device}: host-to-device {h2d:.1f} GB/s, device-to-host {d2h:.1f} GB/s", device=dev,
             h2d=h2d["value"], d2h=d2h["value"])


# --------------------------------------------------------------------------- plan and driver


# (id, name, check, lowest level it runs at). A later level (3: performance against the datasheet)
# adds rows with level=3; build_plan keeps the rows at or below --level.
STATIC = (
    ("torch-import", M("torch imports"), check_import, 1),
    ("tensor-creation", M("tensor creation"), check_tensor_creation, 1),
    ("tensor-operations", M("tensor operations"), check_tensor_operations, 1),
    ("broadcasting", M("broadcasting"), check_broadcasting, 1),
    ("autograd", M("autograd"), check_autograd, 1),
    ("cuda-available", M("CUDA available"), check_cuda_available, 1),
    ("cuda-device-count", M("CUDA device count matches the driver"), check_cuda_device_count, 1),
)
# per device: (id prefix, name, check(ctx, device), level); "cuda:N" devices, or "cpu" without a GPU
PER_DEVICE = (
    ("matmul-large", M("1024x1024 matmul vs reference"), check_matmul_large, 2),
    ("conv-large", M("conv2d 8x32x64x64 vs reference"), check_conv_large, 2),
    ("memory-round-trip", M("memory round trip"), check_memory_round_trip, 2),
    ("perf-matmul", M("matmul throughput vs datasheet"), check_perf_matmul, 3),
    ("perf-memory-bandwidth", M("memory bandwidth (copy) vs datasheet"), check_perf_memory, 3),
    ("perf-host-device", M("host<->device bandwidth (pinned) vs PCIe"), check_perf_host, 3),
)
TAIL = (
    ("companion-pairing", M("torchvision/torchaudio pair with torch"), check_companion_pairing, 1),
    ("torchvision-import", M("torchvision imports"), check_torchvision_import, 1),
    ("torchvision-ops", M("torchvision ops (nms, transforms)"), check_torchvision_ops, 1),
    ("torchaudio-import", M("torchaudio imports"), check_torchaudio_import, 1),
    ("torchaudio-ops", M("torchaudio transforms (Spectrogram, Resample)"), check_torchaudio_ops, 1),
    ("data-parallel", M("nn.DataParallel over all visible GPUs"), check_data_parallel, 1),
    ("cuda-visible-devices", M("CUDA_VISIBLE_DEVICES narrows what torch sees"), check_cuda_visible_devices, 1),
    ("mps", M("Apple MPS"), check_mps, 1),
    ("xpu", M("Intel XPU"), check_xpu, 1),
    ("distributed-all-reduce", M("distributed all_reduce (2 processes)"), check_distributed, 1),
)


def build_plan(ctx):
    """(id, name, fn) for every check at or below --level; per-device CUDA checks once torch says
    how many devices exist."""
    level = getattr(ctx.opts, "level", 1) or 1
    plan = [(i, n, fn) for i, n, fn, lv in STATIC if lv <= level]
    torch = ctx.torch
    count = 0
    if torch is not None and (torch.version.cuda or getattr(torch.version, "hip", None)) and ctx.opts.device not in ("cpu", "mps"):
        # torch may warn only once ("CUDA initialization: ... driver too old"): keep it for cuda-available
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            except Exception:
                count = 0
        ctx.cuda_warnings = list(caught)
    for i in range(count):
        plan.append(("cuda-arch:%d" % i, M("cuda:{index} kernels built for this GPU", index=i), _bind(check_cuda_arch, i)))
        plan.append(("cuda-compute:%d" % i, M("cuda:{index} compute", index=i), _bind(check_cuda_compute, i)))
        plan.append(("cudnn-conv:%d" % i, M("cuda:{index} cuDNN convolution", index=i), _bind(check_cudnn_conv, i)))
    devices = ["cuda:%d" % i for i in range(count)] or ["cpu"]
    for prefix, name, fn, lv in PER_DEVICE:
        if lv <= level:
            for dev in devices:
                plan.append(("%s:%s" % (prefix, dev.replace("cuda:", "")), M("{device}: {name}", device=dev, name=name),
                             _bind(fn, dev)))
    plan.extend((i, n, fn) for i, n, fn, lv in TAIL if lv <= level)
    return plan


def _bind(fn, index):
    def bound(ctx):
        return fn(ctx, index)
    return bound


def _choose_device(ctx):
    torch = ctx.torch
    wanted = ctx.opts.device
    if torch is None or wanted != "auto":
        return wanted
    try:
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
    except Exception:
        pass
    return "cpu"


def run_check(ctx, check_id, name, fn, faults, limit=None):
    begin = {"event": "start", "id": check_id, "name": name}
    if isinstance(name, M):
        begin["name_template"] = template_of(name)
    emit(begin)
    faulthandler.dump_traceback_later(limit or ctx.opts.timeout, exit=True)
    start = time.perf_counter()
    status, message, fix = "ok", "", None
    ctx.event_extra = None
    try:
        if check_id in faults:
            _inject_fault(faults[check_id], ctx.opts.timeout)
        message = fn(ctx) or ""
    except Skip as exc:
        status, message = "skip", exc.args[0] if exc.args and isinstance(exc.args[0], M) else str(exc)
    except Fail as exc:
        status, message, fix = "fail", exc.message, exc.fix
    except Exception as exc:
        frame = traceback.extract_tb(sys.exc_info()[2])[-1]
        status = "fail"
        message = M("{error} (at {file}:{line})", error=_short(exc), file=os.path.basename(frame[0]), line=frame[1])
        fix = _fix_for_runtime_error(str(exc), ctx)
    finally:
        faulthandler.cancel_dump_traceback_later()
    end = {"event": "end", "id": check_id, "status": status, "duration_s": round(time.perf_counter() - start, 4),
           "message": message, "fix": fix}
    for key, text in (("message_template", message), ("fix_template", fix)):
        if isinstance(text, M):
            end[key] = template_of(text)
    if ctx.event_extra:
        end.update(ctx.event_extra)
        ctx.event_extra = None
    emit(end)


def _ids(text):
    return set(part.strip() for part in (text or "").split(",") if part.strip())


def parse_args(argv):
    p = argparse.ArgumentParser(prog="verify_suite.py", description="envcheck verify suite (JSON events on stdout)")
    p.add_argument("--skip", default="", help="comma-separated check ids not to run")
    p.add_argument("--only", default="", help="comma-separated check ids to run (default: all)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--require-cuda", action="store_true")
    p.add_argument("--distributed", action="store_true")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per check")
    p.add_argument("--import-timeout", type=float, default=None,
                   help="seconds for `import torch` (default: max(300, --timeout))")
    p.add_argument("--level", type=int, default=1, choices=LEVELS,
                   help="1: the default suite; 2: deeper checks; 3: + measured performance (perf-* checks)")
    p.add_argument("--expect", default=None, help="JSON (or a file holding it) with the matrix's companion "
                   "versions for the installed torch")
    p.add_argument("--require", default="", help="comma-separated companions (torchvision, torchaudio) that "
                   "must be installed: missing is a failed <name>-import, not a skip")
    p.add_argument("--driver-gpus", type=int, default=None, help="GPUs the NVIDIA driver reports")
    p.add_argument("--expected-cuda-devices", type=int, default=None,
                   help="GPUs CUDA should see after CUDA_VISIBLE_DEVICES")
    p.add_argument("--driver-info", default=None, help="JSON file with driver_gpus and expected_cuda_devices "
                   "(written by the host, possibly after this process starts)")
    p.add_argument("--dist-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rank", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--world-size", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--backend", default="gloo", help=argparse.SUPPRESS)
    p.add_argument("--init", default="", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    if opts.dist_worker:
        return dist_worker(opts)
    _open_event_stream()
    faulthandler.enable()  # a segfault/abort dumps the Python stack to stderr for the host to quote
    emit({"event": "hello", "suite_version": SUITE_VERSION, "pid": os.getpid(),
          "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable, "platform": sys.platform})
    ctx = Ctx(opts)
    skip = _ids(opts.skip)
    only = _ids(opts.only)
    faults = parse_fault_spec(os.environ.get(FAULT_ENV))

    def wanted(check_id):
        return check_id not in skip and (not only or check_id in only)

    emit({"event": "plan", "checks": [{"id": c, "name": n} for c, n, _ in build_plan(ctx) if wanted(c)]})
    import_id, import_name, import_fn = STATIC[0][:3]
    if wanted(import_id):
        run_check(ctx, import_id, import_name, import_fn, faults, limit=import_limit(opts))
    else:  # a fresh child resuming after a crash: torch was already verified, import it quietly,
        # under the import's own limit: a slow import on a loaded machine is not the next check's time
        faulthandler.dump_traceback_later(import_limit(opts), exit=True)
        if faults.get("resume-import") == "slow":
            _inject_fault("slow", opts.timeout)
        try:
            import torch
            ctx.torch = torch
            _load_numpy(ctx)
        except Exception:
            pass
        faulthandler.cancel_dump_traceback_later()
    ctx.device = _choose_device(ctx)
    if ctx.torch is not None:
        ctx.expect = select_release(load_expect(opts.expect, wait_s=min(15.0, opts.timeout / 2.0)), ctx.torch.__version__)
        for name in COMPANIONS:  # metadata only (version.py), for the target event
            companion_state(ctx, name)
    plan = [c for c in build_plan(ctx) if wanted(c[0]) and c[0] != import_id]
    emit({"event": "plan", "checks": [{"id": c, "name": n} for c, n, _ in plan]})
    torch = ctx.torch
    emit({"event": "target", "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
          "torch": getattr(torch, "__version__", None) if torch else None,
          "build": _build(torch) if torch else None, "device": ctx.device, "numpy": ctx.numpy_note,
          "level": opts.level,
          "companions": dict((n, (ctx.companions.get(n) or {}).get("version")) for n in COMPANIONS if ctx.companions.get(n))})
    for check_id, name, fn in plan:
        run_check(ctx, check_id, name, fn, faults)
    emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
