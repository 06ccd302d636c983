#!/usr/bin/env python3
"""Offline consistency check of configs/*.json (maintainer tool; envcheck never runs it).

    python scripts/check_configs.py [CONFIG_DIR]

Stdlib only. It complements envcheck.matrix's load-time validation with the era rules and
cross-file rules the data is expected to follow (configs/README.md, "Checks"):

- every variant a release names is defined in cuda_variants.json; every CUDA variant has a driver row
- every cited source key exists in that file's `sources`; unused source keys are reported
- no duplicate torch rows; default_index is one of the row's variants (or null)
- pip wording and conda style by era; conda offered for no release after 2.5.1
- torchvision 0.(minor+15) for torch 2.x and 0.(minor+1) for 1.x (a warning only on an unverified row); torchaudio == torch for 2.1-2.11, null from 2.12
- ROCm variants only on Linux; architecture ranges of one variant do not overlap
- driver floors: minor-version-compatibility floors per CUDA major as NVIDIA states them
- the rows agree with the generated configs/wheels.json (envcheck.matrix.wheel_contradictions; needs
  `packaging`, so it runs only where envcheck imports)
- arch_cuda (CUDA toolkits per compute capability): one row per cc, first_cuda <= last_cuda; every
  architecture a CUDA variant's wheels are recorded to carry lies within its toolkit's range

Exit status 0 when no errors (warnings are printed but do not fail), 1 otherwise.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OSES = ("linux", "windows", "macos")
COMPAT = {11: ("450.80.02", "452.39"), 12: ("525.60.13", "528.33"), 13: ("580.65.06", "580")}


def vt(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def spec_contains(spec: str, version: tuple[int, ...]) -> bool:
    """Enough of PEP 440 for the '>=A,<B' ranges the data uses."""
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(>=|<=|<|>|==)\s*([\d.]+)\s*", part)
        if not m:
            raise ValueError(f"unsupported specifier part {part!r}")
        op, ver = m.group(1), vt(m.group(2))
        v = version + (0,) * (len(ver) - len(version))
        w = ver + (0,) * (len(version) - len(ver))
        ok = {">=": v >= w, "<=": v <= w, "<": v < w, ">": v > w, "==": v == w}[op]
        if not ok:
            return False
    return True


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, msg: str) -> None:
        self.errors.append(msg)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)


def cited_keys(obj) -> list[str]:
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "source" and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(cited_keys(value))
    elif isinstance(obj, list):
        for item in obj:
            found.extend(cited_keys(item))
    return found


def check_sources(name: str, doc: dict, rows: list, rep: Report) -> None:
    sources = doc.get("sources", {})
    used = cited_keys(rows)
    for key in sorted(set(used)):
        if key not in sources:
            rep.error(f"{name}: cites unknown source {key!r}")
    for key in sorted(set(sources) - set(used)):
        rep.warn(f"{name}: source {key!r} is never cited")
    for key, src in sources.items():
        for field in ("title", "url", "read"):
            if not src.get(field):
                rep.error(f"{name}: sources[{key!r}] lacks {field!r}")


def check(config_dir: Path) -> Report:
    rep = Report()
    docs = {}
    for fname in ("torch_releases.json", "cuda_variants.json", "mirrors.json"):
        try:
            docs[fname] = json.loads((config_dir / fname).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            rep.error(f"{fname}: cannot load: {exc}")
    if rep.errors:
        return rep
    rel_doc, var_doc, mir_doc = docs["torch_releases.json"], docs["cuda_variants.json"], docs["mirrors.json"]
    for fname, doc in docs.items():
        if doc.get("schema") != 1 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(doc.get("checked"))):
            rep.error(f"{fname}: bad schema/checked header")
    releases, variants, mirrors = rel_doc["releases"], var_doc["variants"], mir_doc["mirrors"]
    check_sources("torch_releases.json", rel_doc, releases, rep)
    arch_cuda = var_doc.get("arch_cuda", [])
    check_sources("cuda_variants.json", var_doc, [variants, arch_cuda], rep)
    check_sources("mirrors.json", mir_doc, mirrors, rep)

    # --- variants ---
    by_name = {}
    for row in variants:
        name = row["variant"]
        if name in by_name:
            rep.error(f"cuda_variants.json: duplicate variant {name}")
        by_name[name] = row
        if row["kind"] != "cuda":
            continue
        major = vt(row["cuda"])[0]
        driver = row.get("driver") or {}
        if not any(driver.get(os_name) for os_name in ("linux", "windows")):
            rep.error(f"{name}: no driver floor")
        for idx, os_name in enumerate(("linux", "windows")):
            floor = driver.get(os_name)
            if not floor:
                continue
            want = COMPAT.get(major, (None, None))[idx]
            if major >= 11 and want and floor["minor_compat"] != want:
                rep.error(f"{name}: {os_name} minor_compat {floor['minor_compat']} != NVIDIA's {want}")
            if major < 11 and floor["minor_compat"] != floor["native"]:
                rep.error(f"{name}: CUDA {row['cuda']} has no minor-version compatibility; minor_compat must equal native")
        for key in ("arches", "aarch64"):  # x86_64 wheels; Linux aarch64 (sbsa) wheels
            arches = row.get(key, [])
            for i, a in enumerate(arches):
                sms = [vt(s) for s in a["sm"]]
                if sms != sorted(sms):
                    rep.warn(f"{name}.{key}[{i}]: sm list not sorted")
                for b in arches[i + 1:]:
                    for probe in ((1, 4), (1, 7), (1, 10), (1, 12), (2, 0), (2, 5), (2, 8), (2, 9), (2, 10), (2, 11),
                                  (2, 12), (2, 14), (2, 15)):
                        if spec_contains(a["torch"], probe) and spec_contains(b["torch"], probe):
                            rep.error(f"{name}: {key} ranges {a['torch']!r} and {b['torch']!r} overlap")
                            break
    if "cpu" not in by_name:
        rep.error("cuda_variants.json: no cpu variant")

    # --- arch_cuda: which CUDA toolkits can target each compute capability ---
    by_cc = {}
    for row in arch_cuda:
        cc = row.get("cc")
        if cc in by_cc:
            rep.error(f"arch_cuda: duplicate cc {cc}")
        by_cc[cc] = row
        first, last = row.get("first_cuda"), row.get("last_cuda")
        if first is None and last is None:
            rep.error(f"arch_cuda cc {cc}: neither first_cuda nor last_cuda")
        if first is not None and last is not None and vt(first) > vt(last):
            rep.error(f"arch_cuda cc {cc}: first_cuda {first} > last_cuda {last}")
    for name, row in by_name.items():
        if row["kind"] != "cuda":
            continue
        cuda = vt(row["cuda"])
        for a in row.get("arches", []) + row.get("aarch64", []):
            for sm in a["sm"] + ([a["ptx"]] if a.get("ptx") else []):
                entry = by_cc.get(sm)
                if entry is None:
                    continue
                if entry.get("first_cuda") and cuda < vt(entry["first_cuda"]):
                    rep.error(f"{name} ({a['torch']}): carries {sm}, but CUDA {row['cuda']} predates it (arch_cuda first {entry['first_cuda']})")
                if entry.get("last_cuda") and cuda > vt(entry["last_cuda"]):
                    rep.error(f"{name} ({a['torch']}): carries {sm}, but CUDA {row['cuda']} is after arch_cuda last {entry['last_cuda']}")

    # --- releases ---
    seen = set()
    used_variants = set()
    for row in releases:
        t = row["torch"]
        tv = vt(t)
        where = f"torch {t}"
        if tv in seen:
            rep.error(f"{where}: duplicate row")
        seen.add(tv)
        for os_name in OSES:
            vs = row["variants"].get(os_name, [])
            used_variants.update(vs)
            for v in vs:
                if v not in by_name:
                    rep.error(f"{where}: variant {v!r} ({os_name}) not in cuda_variants.json")
                elif by_name[v]["kind"] == "rocm" and os_name != "linux":
                    rep.error(f"{where}: ROCm variant {v} listed for {os_name}")
            d = (row.get("default_index") or {}).get(os_name)
            if d is not None and d not in vs:
                rep.error(f"{where}: default_index {os_name}={d!r} not among its variants")
            if bool(vs) != bool(row["python"].get(os_name)):
                rep.error(f"{where}: {os_name} has variants xor Python versions")
        # pip wording by era
        want_pip = "find-links" if tv < (1, 11) else "extra-index-url" if tv < (2, 0) else "index-url"
        if row["pip_style"] != want_pip:
            rep.error(f"{where}: pip_style {row['pip_style']} (expected {want_pip})")
        # conda by era
        conda = row.get("conda")
        style = conda.get("style") if conda else None
        if tv > (2, 5, 1) and style is not None:
            rep.error(f"{where}: conda offered after 2.5.1")
        if (1, 13) <= tv <= (2, 5, 1) and style != "pytorch-cuda":
            rep.error(f"{where}: expected pytorch-cuda conda style, got {style}")
        if tv <= (1, 12, 1) and style not in ("cudatoolkit", None):
            rep.error(f"{where}: expected cudatoolkit conda style, got {style}")
        if tv <= (1, 12, 1) and style is None:
            rep.warn(f"{where}: no conda info (unknown)")
        # companions
        vis = vt(row["torchvision"])
        # an unverified row may record what the index shows against the era rule (2.15.0: no torchvision
        # 0.30 on the index); say so, but do not fail
        pairing = rep.warn if row.get("verified") is False else rep.error
        if tv[0] == 2 and vis[:2] != (0, tv[1] + 15):
            pairing(f"{where}: torchvision {row['torchvision']} is not 0.{tv[1] + 15}.x")
        if tv[0] == 1 and vis[:2] != (0, tv[1] + 1):
            pairing(f"{where}: torchvision {row['torchvision']} is not 0.{tv[1] + 1}.x")
        audio = row.get("torchaudio")
        if tv >= (2, 12) and audio is not None:
            rep.error(f"{where}: torchaudio must be null after 2.11 (got {audio})")
        if (2, 1) <= tv < (2, 12) and audio != t:
            rep.error(f"{where}: torchaudio {audio} != torch {t}")
        if row.get("verified") is False:
            rep.warn(f"{where}: marked unverified: {row.get('note', '')[:100]}...")
    newest = max(seen)
    if vt(rel_doc["newest_known"]) < newest:
        rep.error("newest_known older than the newest release row")
    for name, row in by_name.items():
        if name not in used_variants:
            rep.warn(f"variant {name} is defined but no release uses it")
        if row["kind"] == "cuda":
            for a in row.get("arches", []):
                if not any(spec_contains(a["torch"], r) for r in seen):
                    rep.warn(f"{name}: arch range {a['torch']!r} matches no release row")
            # a Linux aarch64 build can only exist for releases that list the variant for Linux
            linux_with = [vt(r["torch"]) for r in releases if name in (r.get("variants") or {}).get("linux", [])]
            for a in row.get("aarch64", []):
                admitted = [r for r in seen if spec_contains(a["torch"], r)]
                if not admitted:
                    rep.warn(f"{name}: aarch64 range {a['torch']!r} matches no release row")
                for r in admitted:
                    if r not in linux_with:
                        rep.error(f"{name}: aarch64 range {a['torch']!r} admits torch {'.'.join(map(str, r))}, "
                                  "whose row does not list the variant for linux")

    # --- mirrors ---
    names = set()
    for row in mirrors:
        if row["name"] in names:
            rep.error(f"mirrors.json: duplicate mirror {row['name']}")
        names.add(row["name"])
        urls = [row.get("pip_index"), row.get("pytorch_wheels"), *row.get("conda_channels", {}).values()]
        for url in urls:
            if url is not None and not url.startswith("https://"):
                rep.error(f"mirror {row['name']}: non-https URL {url}")
    return rep


def wheels_check(config_dir: Path, rep) -> None:
    """Rows against configs/wheels.json (one rule, one home: envcheck.matrix.wheel_contradictions)."""
    if not (config_dir / "wheels.json").is_file():
        rep.warn("wheels.json missing: run scripts/refresh_wheels.py")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from envcheck.matrix import build_matrix, read_docs, wheel_contradictions
    except ImportError as exc:  # packaging not installed: the stdlib checks above still ran
        rep.warn(f"rows vs wheels.json not checked ({exc})")
        return
    docs, names = read_docs(config_dir)
    for problem in wheel_contradictions(build_matrix(docs, names)):
        rep.error(f"wheels.json: {problem}")


def main(argv: list[str]) -> int:
    config_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "configs"
    rep = check(config_dir)
    wheels_check(config_dir, rep)
    for w in rep.warnings:
        print(f"warning: {w}")
    for e in rep.errors:
        print(f"error: {e}")
    print(f"{len(rep.errors)} error(s), {len(rep.warnings)} warning(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
