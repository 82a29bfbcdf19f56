"""The package's layering (docs/design.md section 3): the remote-code files at the root import none of the folders,
and each folder imports only the folders below it, so that nothing points back up."""

import ast
from pathlib import Path

import pytest

import modeling_avssl


PACKAGE = Path(modeling_avssl.__file__).parent
BELOW = {  # the folders each folder may import from, besides the root's files
    "data": set(),
    "localizer": {"data"},
    "method": {"data", "localizer"},
    "run": {"data", "localizer", "method"},
    "commands": {"data", "localizer", "method", "run"},
}


def imported_parts(path: Path) -> set[str]:
    """The part of the package (a folder, or a file at its root) of every module `path` imports: `method` for
    `from ..method.trainer import ...` in `run/summary.py`."""
    here = ["modeling_avssl", *path.relative_to(PACKAGE).parent.parts]
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = here[: len(here) - node.level + 1] + (node.module.split(".") if node.module else [])
            modules = [base] if node.module else [base + [alias.name] for alias in node.names]
        else:
            modules = [(node.module or "").split(".")]
        parts.update(module[1] for module in modules if module[0] == "modeling_avssl" and len(module) > 1)
    return parts


@pytest.mark.parametrize("folder", sorted(BELOW))
def test_a_folder_imports_only_the_folders_below_it(folder):
    for path in sorted((PACKAGE / folder).glob("*.py")):
        above = imported_parts(path) & (set(BELOW) - BELOW[folder] - {folder})
        assert not above, f"{path.relative_to(PACKAGE)} imports from {sorted(above)}"


def test_the_remote_code_files_import_none_of_the_folders():
    for name in ("configuration_avssl", "modeling_avssl", "processing_avssl", "pipeline_avssl", "decoding"):
        folders = imported_parts(PACKAGE / f"{name}.py") & set(BELOW)
        assert not folders, f"{name}.py imports from {sorted(folders)}"
