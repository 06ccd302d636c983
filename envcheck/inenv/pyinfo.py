"""Run BY THE TARGET interpreter (stdlib only, Python 3.7 syntax): describe this interpreter and its
installed distributions, and read torch's version metadata WITHOUT importing torch.

Prints exactly one JSON object on stdout. Never imports envcheck (it may not be installed here).
Shell equivalent: `python -c 'import sys; print(sys.version, sys.prefix)'; pip list;
cat site-packages/torch/version.py`.
"""
import json
import os
import re
import sys

INTERESTING = ("torch", "torchvision", "torchaudio", "numpy", "ipykernel", "pynvml", "nvidia-ml-py",
               "pip", "setuptools", "triton", "jupyter-client", "pytorch-triton-rocm")


def normalize(name):
    # PEP 503 normalisation: runs of -, _ and . become one -
    return re.sub(r"[-_.]+", "-", name).lower()


def split_dist_dir(dirname):
    """'torch-2.13.0+cpu.dist-info' -> ('torch', '2.13.0+cpu'); egg-info too."""
    for suffix in (".dist-info", ".egg-info"):
        if dirname.endswith(suffix):
            stem = dirname[: -len(suffix)]
            name, sep, rest = stem.partition("-")
            if not sep:
                return stem, None
            version = rest.split("-py")[0]
            return name, version
    return None, None


def read_metadata_version(path):
    meta = os.path.join(path, "METADATA")
    if not os.path.isfile(meta):
        meta = os.path.join(path, "PKG-INFO")
    try:
        with open(meta, "r", encoding="utf-8", errors="replace") as fh:
            name = version = None
            for line in fh:
                if line.startswith("Name:") and name is None:
                    name = line[5:].strip()
                elif line.startswith("Version:") and version is None:
                    version = line[8:].strip()
                if not line.strip() or (name and version):
                    break
            return name, version
    except (OSError, UnicodeError):
        return None, None


def site_dirs():
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    for entry in sys.path:
        if not entry:
            continue  # the current directory: a temp dir we were started in
        full = os.path.abspath(entry)
        if full == here or not os.path.isdir(full) or full in out:
            continue
        out.append(full)
    return out


def distributions(dirs):
    """First occurrence wins, as importlib.metadata and the import system do (sys.path order)."""
    found = {}
    seen = set()
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for entry in names:
            name, version = split_dist_dir(entry)
            if name is None:
                continue
            key = normalize(name)
            if key in seen:
                continue
            seen.add(key)
            wanted = key in INTERESTING or key.startswith("nvidia-")
            if wanted:
                # the directory name may be escaped or stale; METADATA is authoritative
                meta_name, meta_version = read_metadata_version(os.path.join(d, entry))
                if meta_name:
                    key = normalize(meta_name)
                    if key in found:
                        continue
                version = meta_version or version
                found[key] = {"version": version, "location": d}
    return found, len(seen)


def read_torch_version(dirs):
    """torch/version.py holds __version__, cuda, hip, git_version as plain assignments."""
    for d in dirs:
        path = os.path.join(d, "torch", "version.py")
        if not os.path.isfile(path):
            continue
        import ast  # only where torch is installed: ~2-3 ms of this interpreter's start otherwise

        out = {"path": path}
        try:
            with open(path, "r", encoding="utf-8", errors="replace") as fh:
                tree = ast.parse(fh.read(), path)
        except (OSError, SyntaxError, ValueError) as exc:
            out["error"] = "cannot read %s: %s" % (path, exc)
            return out
        for node in tree.body:
            target, value = None, None
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target, value = node.targets[0].id, node.value
            elif isinstance(node, getattr(ast, "AnnAssign", ())) and isinstance(node.target, ast.Name) and node.value is not None:
                target, value = node.target.id, node.value
            if target in ("__version__", "cuda", "hip", "git_version", "debug", "xpu"):
                try:
                    out[target] = ast.literal_eval(value)
                except ValueError:
                    pass
        return out
    return None


def read_companion_versions(dirs, names=("torchvision", "torchaudio")):
    """{name: literal __version__ of NAME/version.py}: it keeps the build suffix ('0.28.0+cu130')
    that the default-index wheels' METADATA version leaves out. First directory on sys.path wins."""
    out = {}
    for name in names:
        for d in dirs:
            path = os.path.join(d, name, "version.py")
            if not os.path.isfile(path):
                continue
            try:
                with open(path, "r", encoding="utf-8", errors="replace") as fh:
                    m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", fh.read(), re.M)
            except OSError:
                m = None
            if m:
                out[name] = m.group(1)
            break
    return out


def implementation_and_machine():
    """platform.python_implementation() and platform.machine() without importing platform (~1.5 ms of
    this interpreter's start) where they are known to be the same: CPython/PyPy name themselves in
    sys.implementation, and on POSIX platform.machine() is os.uname().machine."""
    names = {"cpython": "CPython", "pypy": "PyPy"}
    name = names.get(getattr(getattr(sys, "implementation", None), "name", None))
    uname = getattr(os, "uname", None)
    if name is not None and uname is not None:
        return name, uname().machine
    import platform

    return platform.python_implementation(), platform.machine()


def main():
    dirs = site_dirs()
    dists, count = distributions(dirs)
    prefix = sys.prefix
    base = getattr(sys, "base_prefix", getattr(sys, "real_prefix", prefix))
    implementation, machine = implementation_and_machine()
    out = {
        "executable": sys.executable,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "version_full": sys.version.split()[0],
        "implementation": implementation,
        "prefix": prefix,
        "base_prefix": base,
        "is_venv": prefix != base or hasattr(sys, "real_prefix"),
        "is_conda": os.path.isdir(os.path.join(prefix, "conda-meta")),
        "platform": sys.platform,
        "machine": machine,
        "sys_path": dirs,
        "distributions": dists,
        "distribution_count": count,
        "torch_version_py": read_torch_version(dirs),
        "companion_versions": read_companion_versions(dirs),
    }
    sys.stdout.write(json.dumps(out))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
