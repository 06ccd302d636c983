#!/usr/bin/env bash
# GPU smoke test: run envcheck from this checkout on a GPU machine, with no installs.
#
#   scripts/gpu_smoke.sh            # outputs under $OUT when set, else ./gpu-smoke-out
#   PYTHON=/opt/venv/bin/python scripts/gpu_smoke.sh
#
# Runs `python3 -m envcheck doctor --deep --json`, `install --json` (with the detected driver and
# GPU, and for `--python 3.7`), `kernel list --json` and `python3 -m envcheck verify --json --require-cuda`
# (plus --distributed when `nvidia-smi -L` lists >= 2 GPUs), then `verify --json --require-cuda --level 3`
# (measured matmul / memory / PCIe figures beside the datasheet peak; when this checkout's verify has no
# --level yet, envcheck/inenv/perf_check.py is run directly with the target interpreter instead)
# with PYTHONPATH=. ; each command's stdout,
# stderr, exit code and wall time are saved. A missing `verify` command is recorded, not fatal.
# The script's own exit code is 0 when doctor produced valid JSON, else 1.
set -u
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
DEST="${OUT:-./gpu-smoke-out}"
mkdir -p "$DEST"
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
export COLUMNS="${COLUMNS:-120}"

# envcheck's own dependencies (typer, rich, psutil, packaging, nvidia-ml-py) must be importable by $PY.
# Without PYTHON set, pick the first candidate that has them.
has_deps() { "$1" -c 'import typer, rich, psutil, packaging' >/dev/null 2>&1; }
if [ -z "${PYTHON:-}" ] && ! has_deps "$PY"; then
  for cand in /opt/*/.venv/bin/python3 /opt/*/bin/python3 /usr/local/bin/python3 /usr/bin/python3; do
    if [ -x "$cand" ] && has_deps "$cand"; then PY="$cand"; break; fi
  done
fi
# Last resort for a bare machine: dependencies unpacked in .venv-gpu-vendor/site (if someone put them
# there). They are put on sys.path of the envcheck process only, NOT via PYTHONPATH, so the target
# interpreter that doctor inspects does not see them.
ENVCHECK=("$PY" -m envcheck)
if ! has_deps "$PY" && [ -d .venv-gpu-vendor/site ]; then
  ENVCHECK=("$PY" -c 'import runpy, sys; sys.path.insert(1, ".venv-gpu-vendor/site"); sys.argv[0] = "envcheck"; runpy.run_module("envcheck", run_name="__main__", alter_sys=True)')
  echo "note: envcheck's dependencies come from .venv-gpu-vendor/site" | tee "$DEST/vendor.note"
fi

run() {  # run NAME CMD...: saves NAME.stdout / NAME.stderr / NAME.rc / NAME.time
  local name="$1"; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$DEST/$name.stdout" 2>"$DEST/$name.stderr"
  echo $? >"$DEST/$name.rc"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >"$DEST/$name.time"
  echo "$name: exit $(cat "$DEST/$name.rc"), $(cat "$DEST/$name.time") s"
}

{
  echo "date: $(date -u)"
  echo "python: $(command -v "$PY") $("$PY" --version 2>&1)"
  "$PY" - <<'PYEOF'
import importlib
for m in ("typer", "rich", "psutil", "packaging", "pynvml", "torch"):
    try:
        mod = importlib.import_module(m) if m != "torch" else None
        if m == "torch":
            import importlib.util
            spec = importlib.util.find_spec("torch")
            print(f"{m}: {'present at ' + spec.origin if spec else 'MISSING'}")
        else:
            print(f"{m}: {getattr(mod, '__version__', 'ok')}")
    except Exception as exc:
        print(f"{m}: MISSING ({exc.__class__.__name__}: {exc})")
PYEOF
  nvidia-smi -L 2>&1 || echo "nvidia-smi -L failed"
} >"$DEST/environment.txt" 2>&1
cat "$DEST/environment.txt"

# The interpreter doctor inspects: TARGET if set; else the default (active env, else python3 on PATH)
# unless python3 lacks torch and another candidate has it (GPU images often keep torch in a venv).
has_torch() { "$1" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)' >/dev/null 2>&1; }
TARGET_ARGS=()
if [ -n "${TARGET:-}" ]; then
  TARGET_ARGS=(--python "$TARGET")
elif [ -z "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ] && ! has_torch python3; then
  for cand in "$PY" /opt/*/.venv/bin/python3 /opt/*/bin/python3; do
    if [ -x "$(command -v "$cand")" ] && has_torch "$cand"; then TARGET_ARGS=(--python "$(command -v "$cand")"); break; fi
  done
fi
echo "doctor target: ${TARGET_ARGS[*]:-(default)}" | tee -a "$DEST/environment.txt"

GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)

run doctor_deep_json "${ENVCHECK[@]}" doctor --deep --json "${TARGET_ARGS[@]}"
run doctor_human "${ENVCHECK[@]}" doctor "${TARGET_ARGS[@]}"
run doctor_json "${ENVCHECK[@]}" doctor --json "${TARGET_ARGS[@]}"
# install's detection path on a real driver: the default target, and the issue's `--python 3.7` example
run install_json "${ENVCHECK[@]}" install --json --explain "${TARGET_ARGS[@]}"
run install_py37_json "${ENVCHECK[@]}" install --python 3.7 --json --explain
run kernel_list_json "${ENVCHECK[@]}" kernel list --json

if "${ENVCHECK[@]}" verify --help >/dev/null 2>&1; then
  run verify_json "${ENVCHECK[@]}" verify --json --require-cuda "${TARGET_ARGS[@]}"
  if [ "${GPUS:-0}" -ge 2 ]; then
    run verify_distributed_json "${ENVCHECK[@]}" verify --json --require-cuda --distributed "${TARGET_ARGS[@]}"
  fi
else
  echo "verify: not available in this checkout (skipped)" | tee "$DEST/verify_json.skipped"
fi

# Level 3: measured performance (issue 11). The interpreter that runs the measurement is the doctor target.
TPY="${TARGET_ARGS[1]:-python3}"
if "${ENVCHECK[@]}" verify --help 2>/dev/null | grep -q -- '--level'; then
  run verify_level3_json "${ENVCHECK[@]}" verify --json --require-cuda --level 3 "${TARGET_ARGS[@]}"
  if [ "${GPUS:-0}" -ge 2 ]; then
    run verify_distributed_level3_json "${ENVCHECK[@]}" verify --json --require-cuda --distributed \
      --nproc-per-node "$GPUS" --level 3 "${TARGET_ARGS[@]}"
  fi
else
  echo "verify --level: not in this checkout; running perf_check.py directly" | tee "$DEST/verify_level3.note"
  run perf_check_json "$TPY" envcheck/inenv/perf_check.py --device cuda
fi

# GPU health (doctor --json, data.gpus[].health) and the measured fractions of peak, for the closing note.
"$PY" - "$DEST" <<'PYEOF' | tee "$DEST/health_and_perf.txt"
import json, os, sys
dest = sys.argv[1]
def load(name):
    try:
        return json.load(open(os.path.join(dest, name)))
    except Exception as exc:
        print(f"{name}: unreadable ({exc.__class__.__name__})")
        return None
doc = load("doctor_json.stdout")
if doc:
    for g in doc["data"].get("gpus", []):
        print("health gpu", g.get("index"), json.dumps(g.get("health")))
    print("health findings:", [f["code"] for f in doc["data"].get("findings", []) if f["code"].startswith("gpu-")])
if os.path.exists(os.path.join(dest, "verify_level3_json.stdout")):
    v = load("verify_level3_json.stdout")
    perf = (v or {}).get("data", {}).get("performance") or {}
    for d in perf.get("devices", []):
        print("perf device:", d.get("device"), "gpu:", d.get("gpu"), "datasheet:", d.get("datasheet"))
        for f in d.get("figures", []):
            print(f"perf {d.get('device')} {f['metric']}: {f['measured']} {f['unit']} peak {f['peak']} "
                  f"fraction {f['fraction']} {f['status']}")
    for w in perf.get("warnings", []):
        print("perf warning:", w)
    for c in (v or {}).get("data", {}).get("checks", []):
        if c["id"].startswith("perf-"):
            print("check", c["id"], c["status"], c["message"][:300])
if os.path.exists(os.path.join(dest, "verify_distributed_level3_json.stdout")):
    dist = ((load("verify_distributed_level3_json.stdout") or {}).get("data") or {}).get("distributed") or {}
    print("distributed world:", dist.get("world_size"), dist.get("backend"), "busbw:", json.dumps(dist.get("busbw")))
if os.path.exists(os.path.join(dest, "perf_check_json.stdout")):
    raw = load("perf_check_json.stdout")
    if raw:
        sys.path.insert(0, ".")
        from envcheck.gpupeaks import judge
        j = judge(raw)
        print("perf datasheet:", j.get("datasheet"), "gpu:", j.get("gpu"))
        for f in j["figures"]:
            print(f"perf {f['metric']}: {f['measured']} {f['unit']} peak {f['peak']} fraction {f['fraction']} {f['status']}")
        for w in j["warnings"]:
            print("perf warning:", w)
PYEOF

if "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$DEST/doctor_deep_json.stdout" 2>/dev/null; then
  "$PY" - "$DEST/doctor_deep_json.stdout" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))["data"]
print("verdict:", d.get("verdict"))
print("driver:", d.get("driver", {}).get("version"), "cuda", d.get("driver", {}).get("cuda"), "via", d.get("driver", {}).get("source"))
for g in d.get("gpus", []):
    print("gpu:", g)
t = d.get("torch", {})
print("torch:", t.get("version"), "cuda", t.get("cuda"), "deep:", json.dumps(t.get("deep"))[:400])
for f in d.get("findings", []):
    print("finding:", f["severity"], f["code"])
print("timings:", d.get("timings_s"))
PYEOF
  exit 0
fi
echo "doctor did not print valid JSON; see $DEST/doctor_deep_json.stderr"
exit 1
