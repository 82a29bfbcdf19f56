"""Test-wide settings: a seeded generator per test, the `gpu` marker's skip, the `device` tests run on, and the
tiny AVSynth runs the run-level tests share."""

import pytest
import torch
from runs import CHECKPOINTS, tiny_run, train


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


@pytest.fixture(scope="session")
def avsynth(tmp_path_factory) -> str:
    """The folder of the tiny config's AVSynth (written by the first run that reads it)."""
    return str(tmp_path_factory.mktemp("avsynth"))


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory, avsynth):
    """The output folder of a tiny run of 4 steps with checkpoints at steps 2 and 4."""
    output_dir = tmp_path_factory.mktemp("uninterrupted")
    train(tiny_run(output_dir, avsynth, *CHECKPOINTS))
    return output_dir
