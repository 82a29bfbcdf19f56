"""Test-wide settings: a seeded generator per test, the `gpu` marker's skip, and the `device` tests run on."""

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (benchmarks/gpu_check.py runs the gpu tests on one)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request) -> torch.device:
    """Each test that takes it runs on the CPU and, where there is one, on a CUDA device."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
