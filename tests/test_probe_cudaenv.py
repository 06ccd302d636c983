"""CUDA_VISIBLE_DEVICES resolution (CUDA's documented rules, as torch/cuda/__init__.py mirrors them)
and near-miss variable names, against the recorded H100 facts."""
from __future__ import annotations

import pytest

from envcheck.facts import GpuInfo
from envcheck.probes.cudaenv import find_near_misses, probe_cuda_env, resolve_visible_devices, strtoul

H100 = [GpuInfo(0, "NVIDIA H100 80GB HBM3", "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6")]
TWO = [GpuInfo(0, "A", "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6"), GpuInfo(1, "B", "GPU-1c2d3e4f-0000-1111-2222-333344445555")]


@pytest.mark.parametrize(
    "raw, gpus, visible, hides_all, out_of_range",
    [
        (None, TWO, (0, 1), False, ()),
        ("0", TWO, (0,), False, ()),
        ("1,0", TWO, (1, 0), False, ()),
        ("", H100, (), True, ()),  # probe-novisible.txt: torch sees 0 GPUs
        ("-1", TWO, (), True, ()),
        ("7", H100, (), True, (7,)),  # probe-bad-visible.txt: torch sees 0 GPUs
        ("0,7,1", TWO, (0,), False, (7,)),  # parsing stops at the invalid entry
        ("0,-1,1", TWO, (0,), False, ()),
        ("1gpu", TWO, (1,), False, ()),  # read like strtoul
        ("0,0", TWO, (), True, ()),  # a repeated ordinal empties the set
        (" 1 , 0 ", TWO, (1, 0), False, ()),
        ("GPU-0babf9eb", H100, (0,), False, ()),  # a unique UUID prefix is enough
        ("GPU-1c2d3e4f-0000-1111-2222-333344445555,GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6", TWO, (1, 0), False, ()),
        ("GPU-ffff", H100, (), True, ()),
        ("GPU-0babf9eb,0", TWO, (0,), False, ()),
        ("MIG-aaaa-bbbb", H100, ("MIG-aaaa-bbbb",), False, ()),
        ("abc", TWO, (), True, ()),
    ],
)
def test_resolve_visible_devices(raw, gpus, visible, hides_all, out_of_range):
    r = resolve_visible_devices(raw, gpus)
    assert r.visible == visible
    assert r.hides_all == hides_all
    assert r.out_of_range == out_of_range
    assert r.is_set == (raw is not None)


@pytest.mark.parametrize("text, n", [("3", 3), ("12abc", 12), ("", -1), ("x1", -1), ("-1", -1), ("+2", 2)])
def test_strtoul(text, n):
    assert strtoul(text) == n


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"CUDA_VISIBLE_DEVICE": "1"}, [("CUDA_VISIBLE_DEVICE", "1", "CUDA_VISIBLE_DEVICES")]),  # probe-typo.txt
        ({"CUDA_VISBLE_DEVICES": "0"}, [("CUDA_VISBLE_DEVICES", "0", "CUDA_VISIBLE_DEVICES")]),
        ({"cuda_visible_devices": "0"}, [("cuda_visible_devices", "0", "CUDA_VISIBLE_DEVICES")]),
        ({"CUDA_VISIBLE_DEVCIES": "0"}, [("CUDA_VISIBLE_DEVCIES", "0", "CUDA_VISIBLE_DEVICES")]),
        ({"CUDA_DEVICE_ORDERS": "PCI_BUS_ID"}, [("CUDA_DEVICE_ORDERS", "PCI_BUS_ID", "CUDA_DEVICE_ORDER")]),
        ({"CUDA_VISIBLE_DEVICES": "0", "NVIDIA_VISIBLE_DEVICES": "all", "HIP_VISIBLE_DEVICES": "0",
          "CUDA_HOME": "/usr/local/cuda", "PATH": "/bin"}, []),
    ],
)
def test_near_misses(env, expected):
    assert list(find_near_misses(env)) == expected


def test_probe_cuda_env_device_order():
    facts = probe_cuda_env({"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": "1"}, TWO)
    d = facts.to_dict()
    assert d["CUDA_DEVICE_ORDER"]["effective"] == "PCI_BUS_ID"
    assert d["CUDA_VISIBLE_DEVICES"]["resolution"]["visible"] == [1]
    bad = probe_cuda_env({"CUDA_DEVICE_ORDER": "pci"}, TWO)
    assert not bad.device_order_valid and bad.to_dict()["CUDA_DEVICE_ORDER"]["effective"] == "FASTEST_FIRST"
