"""transformers' common test suite (`ModelTesterMixin`, `ConfigTester`) of the installed transformers version.

The wheel does not ship its tests; the same version's source distribution does (only the top level of `tests/`).
`common_tests()` downloads it once with pip (`$AVSSL_TRANSFORMERS_TESTS` may name a `tests/` folder of that
version's source tree instead), keeps its `tests/*.py` in a cache folder and imports them from there as the
package `transformers_tests`, so that their relative imports resolve. Three modules they import are not in the
source distribution; this file provides what the two mixins need of them, and none of their tests:

- `exporters.test_export.ExportTesterMixin`, `ModelTesterMixin`'s base class, whose `torch.export` tests
  `tests/test_modeling_avssl_common.py` writes itself;
- `generation.test_utils.GenerationTesterMixin`, which `ModelTesterMixin` only checks a tester does not inherit
  when the model cannot generate (AVSSL cannot);
- `utils.test_configuration_utils.config_common_kwargs`, the `PreTrainedConfig` arguments `ConfigTester` sets to
  non-default values (it skips that check for composite configs such as `AVSSLConfig`).
"""

import importlib
import os
import subprocess
import sys
import tarfile
import tempfile
import types
from pathlib import Path

import transformers


PACKAGE = "transformers_tests"


class ExportTesterMixin:
    """Stands in for the source tree's export mixin, which the source distribution leaves out."""


class GenerationTesterMixin:
    """Stands in for the source tree's generation mixin, which the source distribution leaves out."""


CONFIG_COMMON_KWARGS = {
    "return_dict": False,
    "output_hidden_states": True,
    "output_attentions": True,
    "dtype": "float16",
    "chunk_size_feed_forward": 5,
    "architectures": ["BertModel"],
    "id2label": {0: "label"},
    "label2id": {"label": "0"},
    "problem_type": "regression",
}


def _cache_folder() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return root / "avssl" / f"transformers-{transformers.__version__}-tests"


def _download_tests(folder: Path) -> None:
    """Extracts `tests/*.py` of the installed version's source distribution into `folder`."""
    version = transformers.__version__
    with tempfile.TemporaryDirectory() as download:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        result = subprocess.run(
            [*command, f"transformers=={version}", "--dest", download], capture_output=True, text=True
        )
        archives = list(Path(download).glob("transformers-*.tar.gz"))
        if result.returncode or not archives:
            raise RuntimeError(
                f"cannot download the source distribution of transformers {version}, which holds its common model "
                f"tests: {result.stderr.strip()[-2000:]}\nSet AVSSL_TRANSFORMERS_TESTS to an extracted `tests/` "
                "folder of that version to run without the package registry."
            )
        partial = folder.with_name(folder.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if member.isfile() and len(parts) == 3 and parts[1] == "tests" and parts[2].endswith(".py"):
                    (partial / parts[2]).write_bytes(archive.extractfile(member).read())
        (partial / "__init__.py").touch()
        partial.rename(folder)


def _tests_folder() -> Path:
    if "AVSSL_TRANSFORMERS_TESTS" in os.environ:
        return Path(os.environ["AVSSL_TRANSFORMERS_TESTS"])
    folder = _cache_folder()
    if not (folder / "test_modeling_common.py").exists():
        _download_tests(folder)
    return folder


def _add_missing_module(folder: Path, name: str, **attributes) -> None:
    """Registers `transformers_tests.<name>` with `attributes`, unless `folder` (a full source tree) has it."""
    if (folder / (name.replace(".", "/") + ".py")).exists() or (folder / name).is_dir():
        return
    module = types.ModuleType(f"{PACKAGE}.{name}")
    module.__dict__.update(attributes)
    sys.modules[module.__name__] = module


def common_tests() -> tuple[types.ModuleType, types.ModuleType]:
    """`(test_modeling_common, test_configuration_common)` of the installed transformers version."""
    if PACKAGE not in sys.modules:
        folder = _tests_folder()
        if not (folder / "__init__.py").exists():
            raise FileNotFoundError(f"{folder} has no __init__.py; the common tests import transformers from it")
        package = types.ModuleType(PACKAGE)
        package.__path__ = [str(folder)]
        sys.modules[PACKAGE] = package
        for name in ("exporters", "generation", "utils"):
            _add_missing_module(folder, name, __path__=[])
        _add_missing_module(folder, "exporters.test_export", ExportTesterMixin=ExportTesterMixin)
        _add_missing_module(folder, "generation.test_utils", GenerationTesterMixin=GenerationTesterMixin)
        _add_missing_module(folder, "utils.test_configuration_utils", config_common_kwargs=CONFIG_COMMON_KWARGS)
    modeling = importlib.import_module(f"{PACKAGE}.test_modeling_common")
    configuration = importlib.import_module(f"{PACKAGE}.test_configuration_common")
    return modeling, configuration
