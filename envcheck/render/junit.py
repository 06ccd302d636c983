"""JUnit XML for `envcheck verify --junit-xml FILE`: one <testcase> per check.

The dialect every common CI reader accepts (GitHub Actions test-report actions, GitLab
`artifacts:reports:junit`, Jenkins `junit`): <testsuites><testsuite name tests failures errors
skipped time timestamp hostname><properties/><testcase classname name time> with a <failure
message type> or <skipped message> child, and <system-out> for the check's message.
https://github.com/testmoapp/junitxml (the de-facto schema, with per-CI notes)
"""
from __future__ import annotations

import datetime
import socket
import xml.etree.ElementTree as ET

CLASSNAME = "envcheck.verify"


def _s(value) -> str:
    return "" if value is None else str(value)


def junit_tree(data: dict) -> ET.ElementTree:
    """Build the XML tree from verify's JSON data (`data.checks`, `data.target`) (pure)."""
    checks = data.get("checks") or []
    failures = sum(1 for c in checks if c.get("status") == "fail")
    skipped = sum(1 for c in checks if c.get("status") == "skip")
    total_time = sum(float(c.get("duration_s") or 0.0) for c in checks)
    # The same totals on <testsuites> and its one <testsuite>: readers differ in which they use.
    totals = {
        "name": f"envcheck verify (level {data.get('level', 1)})",
        "tests": str(len(checks)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{total_time:.3f}",
    }
    root = ET.Element("testsuites", **totals)
    suite = ET.SubElement(
        root,
        "testsuite",
        **totals,
        timestamp=datetime.datetime.now().replace(microsecond=0).isoformat(),
        hostname=socket.gethostname(),
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="level", value=_s(data.get("level", 1)))
    for key, value in (data.get("target") or {}).items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                ET.SubElement(props, "property", name=f"target.{key}.{sub}", value=_s(subvalue))
        elif value is not None:
            ET.SubElement(props, "property", name=f"target.{key}", value=_s(value))
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=CLASSNAME,
            name=_s(check.get("id")),
            time=f"{float(check.get('duration_s') or 0.0):.3f}",
        )
        message = _s(check.get("message"))
        status = check.get("status")
        if status == "fail":
            failure = ET.SubElement(case, "failure", message=message, type="CheckFailed")
            fix = check.get("fix")
            failure.text = message + (f"\nfix: {fix}" if fix else "")
        elif status == "skip":
            ET.SubElement(case, "skipped", message=message)
        if message and status != "fail":
            ET.SubElement(case, "system-out").text = f"{check.get('name') or check.get('id')}: {message}"
    ET.indent(root)  # Python 3.9+
    return ET.ElementTree(root)


def write_junit(data: dict, path: str) -> None:
    """Write the report (UTF-8, with an XML declaration). Raises OSError when the path is not writable."""
    junit_tree(data).write(path, encoding="utf-8", xml_declaration=True)
