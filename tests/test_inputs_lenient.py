"""Inputs that are almost right (issue 8 item 5): a driver cut short, a GPU named instead of its compute
capability. Pure table tests plus the install decision on the shipped matrix (no probe: --os linux with
every accelerator fact given)."""
from __future__ import annotations

import pytest

from envcheck.decision import decide
from envcheck.errors import EnvcheckError
from envcheck.inputs import driver_cut_short, driver_short_note, parse_gpu_name


@pytest.mark.parametrize("given,floor,short", [
    ("580.65", "580.65.06", True),    # the case: the third part decides
    ("580", "580.65.06", True),       # the branch alone: 580.0 .. 580.x, may be either side
    ("580", "575.51.03", False),      # every 580.x is above a 575 floor
    ("575", "580.65.06", False),      # every 575.x is below: no digits missing to decide
    ("580.65.06", "580.65.06", False),
    ("537.13", "537.13", False),      # Windows drivers are written with two parts, in full
    ("418.39", "418.39", False),      # so were old Linux ones (CUDA 10.1's floor)
    ("525", "525.60.13", True),
    ("450", "450.80.02", True),
    ("450.80", "450.80.00", False),   # trailing zeros decide nothing
])
def test_driver_cut_short(given, floor, short):
    assert driver_cut_short(given, floor) is short


def test_short_note_names_the_floor_and_the_safe_reading():
    note = driver_short_note("580.65", [("cu130", "580.65.06"), ("cu129", "525.60.13")])
    assert "read as 580.65.0" in note and "580.65.06 that cu130 needs" in note
    assert driver_short_note("580.65.06", [("cu130", "580.65.06")]) is None
    assert "read as 580.0.0" in driver_short_note("580", [("cu130", "580.65.06"), ("cu132", "580.65.06")])


@pytest.mark.parametrize("driver", ["580", "580.65"])
def test_a_short_driver_gets_an_answer_and_the_note(driver):
    full = decide(python="3.12", os_name="linux", arch="x86_64", driver="580.65.06", gpu_cc=("9.0",))
    d = decide(python="3.12", os_name="linux", arch="x86_64", driver=driver, gpu_cc=("9.0",))
    # the safe reading: no build that needs 580.65.06 is recommended on a guess
    assert d.recommendation.variant.name != full.recommendation.variant.name
    assert d.recommendation.variant.kind == "cuda"
    assert len(d.input_notes) == 1 and "580.65.06" in d.input_notes[0] and "cut short" in d.input_notes[0]
    assert d.inputs["driver"].reason == d.input_notes[0]
    assert full.input_notes == ()


def test_a_short_driver_that_decides_nothing_has_no_note():
    d = decide(python="3.12", os_name="linux", arch="x86_64", driver="590", gpu_cc=("9.0",))
    assert d.input_notes == ()


@pytest.mark.parametrize("name,cc", [("RTX 3090", "8.6"), ("NVIDIA GeForce RTX 3090", "8.6"),
                                     ("Tesla V100-SXM2-16GB", "7.0"), ("H100", "9.0")])
def test_gpu_by_name(name, cc):
    assert parse_gpu_name(name)[0] == cc


def test_unknown_gpu_name_is_exit_2_with_the_closest_names():
    with pytest.raises(EnvcheckError) as err:
        parse_gpu_name("RTX 3099")
    assert err.value.exit_code == 2 and err.value.code == "invalid-gpu"
    assert "'RTX 3090'" in err.value.hint


def test_gpu_names_join_gpu_cc_in_the_decision():
    d = decide(python="3.12", os_name="linux", arch="x86_64", driver="580.65.06", gpu=("RTX 3090", "V100"),
               gpu_cc=("8.6",))
    assert d.request.gpu_ccs == ("8.6", "7.0")
    assert "RTX 3090" in d.inputs["gpu_cc"].reason


def test_gpu_flag_on_the_cli():
    import json

    from typer.testing import CliRunner

    from envcheck.cli import app

    res = CliRunner().invoke(app, ["install", "--python", "3.12", "--os", "linux", "--driver", "580.65.06",
                                   "--gpu", "RTX 3090", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["data"]["inputs"]["gpu_cc"]["value"] == ["8.6"]
    bad = CliRunner().invoke(app, ["install", "--python", "3.12", "--os", "linux", "--gpu", "RTX 3099", "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["errors"][0]["code"] == "invalid-gpu"
