"""What a verification run proved about the packages an install put in an env (pure).

`install --execute` says "verified" only for what its checks exercised: this is the one rule that maps
the verify suite's check results (inenv/verify_suite.py ids) to packages. No I/O, no torch.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from envcheck.errors import Msg

COMPANION_CHECKS = {  # the verify suite's checks that exercise each companion (inenv/verify_suite.py)
    "torchvision": ("torchvision-import", "torchvision-ops"),
    "torchaudio": ("torchaudio-import", "torchaudio-ops"),
}
PAIRING_CHECK = "companion-pairing"


def prove_installed(packages: Sequence[str], verify_data: dict, not_planned: Mapping[str, str]) -> dict:
    """Which installed packages the verification proved (pure).

    A package is "verified" only when every check that exercises it passed: torch by all checks but the
    companions' (torch-import must be ok), torchvision/torchaudio by their import and ops checks, and
    not named by a failed companion-pairing. A companion this run installed is passed to the suite as
    required (`verify --require-package`), so its absence is already a FAILED `<pkg>-import` there.
    Returns {"verified": [...], "failed": {pkg: [check ids]}, "unproven": {pkg: why},
    "not_installed": {pkg: why}}."""
    checks = verify_data.get("checks") or []
    by_id = {c.get("id"): c for c in checks}
    torch_ok = (by_id.get("torch-import") or {}).get("status") == "ok"
    companion_ids = {i for ids in COMPANION_CHECKS.values() for i in ids} | {PAIRING_CHECK}
    pairing = by_id.get(PAIRING_CHECK) or {}
    verified, failed, unproven = [], {}, {}
    for pkg in packages:
        if pkg == "torch":
            ids = [c["id"] for c in checks if c.get("id") not in companion_ids]
            bad = [i for i in ids if by_id[i].get("status") == "fail"]
            if bad:
                failed[pkg] = bad
            elif torch_ok:
                verified.append(pkg)
            else:
                unproven[pkg] = Msg("torch-import did not run")
            continue
        ids = COMPANION_CHECKS.get(pkg, ())
        bad = [i for i in ids if (by_id.get(i) or {}).get("status") == "fail"]
        if pairing.get("status") == "fail" and _pairing_names(pairing, pkg):
            bad.append(PAIRING_CHECK)
        if bad:
            failed[pkg] = bad
        elif ids and all((by_id.get(i) or {}).get("status") == "ok" for i in ids):
            verified.append(pkg)
        else:
            why = next(((by_id.get(i) or {}).get("message") for i in ids
                        if (by_id.get(i) or {}).get("status") != "ok"), None)
            unproven[pkg] = why or Msg("no check exercised it")
    return {"verified": verified, "failed": failed, "unproven": unproven, "not_installed": dict(not_planned)}


def _pairing_names(check: dict, pkg: str) -> bool:
    """Does a failed companion-pairing concern `pkg`? Its message is one clause per problem, each
    starting with the package's name (inenv/verify_suite.py check_companion_pairing); when no clause
    names a package, the failure counts against every companion."""
    clauses = [c.strip() for c in (check.get("message") or "").split(";")]
    named = [c for c in clauses if c.split(" ", 1)[0] in COMPANION_CHECKS]
    return not named or any(c.split(" ", 1)[0] == pkg for c in named)
