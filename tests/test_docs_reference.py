"""The reference pages in docs/ cover what the code defines, and README's typical session parses.

Pure and fast: the sets are derived FROM THE CODE by reading envcheck/ with `ast` (no typed lists
here), then looked up in docs/reference/*.md. A new finding code, error code, exit code or
environment variable without a line in its reference page fails here. README's typical session is
parsed by the real CLI with `--help` appended: click parses every word first (an unknown command or
option is a usage error), then the eager `--help` stops before any command runs.
"""
from __future__ import annotations

import ast
import fnmatch
import functools
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "envcheck"
REF = ROOT / "docs" / "reference"


def _modules():
    return _parsed()


@functools.lru_cache(maxsize=1)
def _parsed() -> tuple:
    """Every module of the package, parsed once per test session (the scanners walk the same trees)."""
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
                 for path in sorted(PKG.rglob("*.py")))


def _str(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_constants(tree) -> dict[str, list[str]]:
    """NAME -> the strings a module-level NAME = "X" / ("X", "Y") / {...: "X"} assignment holds."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = _strings(node.value, {})
    return out


def _strings(node, consts) -> list[str]:
    """Every string a literal (or a module constant) can put in a variable."""
    if node is None:
        return []
    s = _str(node)
    if s is not None:
        return [s]
    if isinstance(node, ast.Name):
        return list(consts.get(node.id, []))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [v for elt in node.elts for v in _strings(elt, consts)]
    if isinstance(node, ast.Dict):
        return [v for val in node.values for v in _strings(val, consts)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return _strings(node.func.value, consts)  # {"conda": "CONDA_EXE", ...}.get(key)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and _str(node.left):
        return [_str(node.left) + "*"]  # "PIP_" + key.upper(): a family of variables
    if isinstance(node, ast.JoinedStr) and node.values and _str(node.values[0]):
        # f"{var}-visible-devices-typo" / f"hip-visible-{kind}": a family; "*" stands for each field
        return ["".join(_str(v) if _str(v) is not None else "*" for v in node.values)]
    if isinstance(node, ast.JoinedStr):
        return ["".join(_str(v) if _str(v) is not None else "*" for v in node.values)]
    return []


def _bindings(tree, consts) -> dict[str, list[str]]:
    """Local names bound by `for NAME in <literal>`, `for NAME, x in ((..), ..)`, comprehensions and
    plain assignments, to the strings they can hold (position-aware for tuple targets)."""
    out: dict[str, list[str]] = {}

    def bind(target, iterable):
        if isinstance(target, ast.Name):
            out.setdefault(target.id, []).extend(_strings(iterable, consts))
        elif isinstance(target, ast.Tuple) and isinstance(iterable, (ast.Tuple, ast.List)):
            for row in iterable.elts:
                if isinstance(row, ast.Tuple):
                    for t, v in zip(target.elts, row.elts):
                        if isinstance(t, ast.Name):
                            out.setdefault(t.id, []).extend(_strings(v, consts))

    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)):
            it = node.iter
            if isinstance(target := node.target, ast.Name):
                bind(target, it)
            else:
                bind(target, it)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values = _strings(node.value, consts)
            if values:
                out.setdefault(node.targets[0].id, []).extend(values)
    return out


def _is_environ(node) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return "environ" in name


def env_vars_read() -> set[str]:
    """Every environment variable envcheck reads: `environ.get(X)`, `environ[X]`, `os.getenv(X)`,
    with X a literal, a module constant, or a loop/assigned name resolved to its literals."""
    found: set[str] = set()
    for _path, tree in _modules():
        consts = _module_constants(tree)
        scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
        _reads(tree, consts, found)  # literals and module constants
        for scope in scopes:  # local names resolved in the function that binds and reads them
            _reads(scope, {**consts, **_bindings(scope, consts)}, found)
    return found


def _is_env_dict(node) -> bool:
    """A mapping named `env` (an environ handed down as a parameter): its UPPER_CASE keys are variables."""
    return isinstance(node, ast.Name) and node.id == "env"


def _reads(scope, names, found: set) -> None:
    for node in ast.walk(scope):
        arg, upper_only = None, False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr == "get" and _is_environ(node.func.value) or node.func.attr == "getenv":
                arg = node.args[0]
            elif node.func.attr == "get" and _is_env_dict(node.func.value):
                arg, upper_only = node.args[0], True
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            arg = node.slice
        if arg is not None:
            found.update(v for v in _strings(arg, names) if not upper_only or re.fullmatch(r"[A-Z][A-Z0-9_]*\*?", v))


def finding_codes() -> set[str]:
    """The `code` of every Finding(...) envcheck constructs (first argument or code=)."""
    codes: set[str] = set()
    for _path, tree in _modules():
        consts = _module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Finding":
                arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "code"), None)
                codes.update(_strings(arg, consts))
    return codes


def _code_positions(trees) -> dict[str, int]:
    """Callable name -> index of its positional `code` parameter (a class: its __init__, minus self)."""
    out: dict[str, int] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
                names = [a.arg for a in init.args.args[1:]] if init else []
                if "code" in names:
                    out[node.name] = names.index("code")
            elif isinstance(node, ast.FunctionDef) and "code" in [a.arg for a in node.args.args]:
                out.setdefault(node.name, [a.arg for a in node.args.args].index("code"))
    return out


def error_codes() -> set[str]:
    """The `code` of every error envcheck raises: `code="..."` keywords, a positional `code` argument
    of envcheck's own callables (e.g. a failed step), and the defaults of `code` parameters."""
    trees = [tree for _path, tree in _modules()]
    positions = _code_positions(trees)
    codes: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name == "Finding":
                    continue
                codes.update(s for k in node.keywords if k.arg == "code" for s in [_str(k.value)] if s)
                codes.update(f for k in node.keywords if k.arg == "code" and isinstance(k.value, ast.JoinedStr)
                             for f in _strings(k.value, {}))  # code=f"{what}-locked": a family
                if name in positions and len(node.args) > positions[name] and _str(node.args[positions[name]]):
                    codes.add(_str(node.args[positions[name]]))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.args + node.args.kwonlyargs
                defaults = ([None] * (len(node.args.args) - len(node.args.defaults)) + node.args.defaults
                            + node.args.kw_defaults)
                codes.update(_str(d) for a, d in zip(args, defaults) if a.arg == "code" and _str(d))
    return codes


def _page(name: str) -> str:
    return (REF / name).read_text(encoding="utf-8")


def _backticked(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


# --- the scanners find what they must (so an empty set cannot pass silently) --------------------


def test_scanners_see_known_items():
    assert {"torch-cpu-build-on-gpu-host", "stale-jupyter-kernel", "matrix-older-than-torch",
            "kernel-shadowed"} <= finding_codes()
    assert {"env-exists", "invalid-input", "interrupted", "no-compatible-build", "*-locked"} <= error_codes()
    assert {"ENVCHECK_OVERRIDE_DRIVER", "ENVCHECK_VERIFY_FAULT", "CONDA_EXE", "MAMBA_EXE", "PYENV_ROOT",
            "IPYTHONDIR", "CUDA_VISIBLE_DEVICES", "VIRTUAL_ENV", "UV_INDEX_URL", "PIP_*"} <= env_vars_read()


# --- each reference page holds what the code defines ---------------------------------------------


def _covered(code: str, page: set[str]) -> bool:
    """A literal code is listed as is; a family built by an f-string (`*` for each field) is covered
    by the family itself or by at least one listed member."""
    if "*" not in code:
        return code in page
    return code in page or any(fnmatch.fnmatchcase(d, code) for d in page)


def test_every_finding_code_is_in_findings_page():
    page = _backticked(_page("findings.md"))
    assert sorted(c for c in finding_codes() if not _covered(c, page)) == []


def test_every_error_code_is_in_findings_page():
    page = _backticked(_page("findings.md"))
    assert sorted(c for c in error_codes() if not _covered(c, page)) == []


def test_every_exit_code_is_in_exit_codes_page():
    from envcheck.errors import ExitCode

    rows = {(m.group(1), m.group(2)) for m in re.finditer(r"^\| (\d+) \| `([A-Z_]+)` \|", _page("exit-codes.md"), re.M)}
    assert rows == {(str(int(c)), c.name) for c in ExitCode}


def test_every_environment_variable_is_in_its_page():
    page = _page("environment-variables.md")
    documented = _backticked(page)
    missing = []
    for var in sorted(env_vars_read()):
        if var.endswith("*"):  # a family ("PIP_" + key): the page names the family
            if f"`{var}`" not in page and not any(d.startswith(var[:-1]) for d in documented):
                missing.append(var)
        elif var not in documented and not any(var in re.split(r"[^A-Za-z0-9_]+", d) for d in documented):
            missing.append(var)
    assert missing == []


def test_json_page_states_the_envelope_keys():
    from envcheck.render.json import envelope
    from envcheck.results import Result

    keys = set(envelope(Result(command="doctor", data={})))
    assert keys <= _backticked(_page("json.md")) | {k for d in _backticked(_page("json.md")) for k in re.findall(r'"(\w+)"', d)}


# --- README's typical session is accepted by the CLI ----------------------------------------------


def _envcheck_lines(block: str) -> list[list[str]]:
    return [shlex.split(line.split(" #")[0])[1:] for line in block.splitlines() if line.startswith("envcheck ")]


def _session_commands() -> list[list[str]]:
    """The typical session (the block after the marker) and every other `envcheck ...` example in
    README's bash blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- typical-session -->\s*```bash\n(.*?)```", text, re.S)
    assert m, "README.md has no bash block after <!-- typical-session -->"
    session = _envcheck_lines(m.group(1))
    assert len(session) >= 4
    others = [a for block in re.findall(r"```bash\n(.*?)```", text, re.S) for a in _envcheck_lines(block)]
    return session + [a for a in others if a not in session]


@pytest.mark.parametrize("argv", _session_commands(), ids=lambda a: " ".join(a))
def test_readme_session_parses(argv):
    """Each command, with `--help` appended, gets through click's parser: an unknown command or option,
    or an option missing its value, is a usage error (exit 2); `--help` then stops before any work."""
    from typer.testing import CliRunner

    from envcheck.cli import app

    out = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Usage: envcheck " + argv[0]), out.output


# --- README stays short and keeps the lines CI runs -------------------------------------------------


def test_readme_is_short_and_holds_the_ci_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(ln for ln in ci.splitlines() if ln.startswith("python3 -m venv"))
    assert command in readme.splitlines()  # byte for byte: .ci/run runs README's test command


def test_every_command_has_its_page():
    """Each top-level command of the CLI (from the app itself) has docs/commands/NAME.md."""
    import typer.main

    from envcheck.cli import app

    names = set(typer.main.get_command(app).commands)
    assert {"doctor", "install", "verify", "create", "kernel"} <= names
    missing = sorted(n for n in names if not (ROOT / "docs" / "commands" / f"{n}.md").is_file())
    assert missing == []
