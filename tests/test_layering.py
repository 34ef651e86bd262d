"""The layering of docs/architecture.md, checked on the source rather than trusted.

The rules are import-linter contracts in pyproject.toml ([tool.importlinter]); each runs
here as its own test. Forbidden and layers contracts follow indirect imports too, lazy
(function-level) ones included, so a module cannot reach a banned one through another.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter brings tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"]
# Every rule the architecture relies on; a contract dropped from pyproject.toml fails here.
REQUIRED = {"server-stack", "engine", "jobs", "rpc", "values", "train", "gimp-bridge",
            "no-plugin", "cli-on-top", "cli-commands", "desktop", "desktop-state", "plugin",
            "framing", "batch"}
LINT = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"


def test_every_layering_contract_is_configured():
    assert REQUIRED <= {c["id"] for c in CONTRACTS}


@pytest.mark.parametrize("contract", [c["id"] for c in CONTRACTS])
def test_contract_is_kept(contract):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo",
                           "--contract", contract, str(ROOT / "pyproject.toml")],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout, done.stdout


def python_files(where: str) -> list[Path]:
    target = ROOT / where
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*.py") if "_pb" not in p.parts)


def test_client_side_imports_without_torch_or_scipy():
    """The CLI client, its parser and DeblurClient work where torch and scipy cannot be
    imported."""
    code = (
        "import sys\n"
        "for banned in ('torch', 'scipy', 'diffusers', 'peft', 'transformers'):\n"
        "    sys.modules[banned] = None\n"
        "import backend.cli, backend.rpc.client, backend.images, backend.progress_bar\n"
        "import desktop_gui.launch\n"
        "backend.cli.build_parser()  # imports every command module\n"
        "loaded = [m for m in sys.modules\n"
        "          if m.startswith(('backend.engine', 'backend.jobs', 'backend.server'))]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_gimp_plug_in_imports_only_the_standard_library_and_gi():
    """GIMP's own Python (bundled on Windows and in Flatpak) may have nothing else. The
    framing it shares with the bridge is copied into the installed plug-in, so it is held
    to the same rule."""
    allowed = set(sys.stdlib_module_names) | {"gi", "osdd_gimp", "osdd_framing", "__future__"}
    broken = []
    for path in python_files("plugin_gimp/osdd_deblur") + python_files("osdd_framing"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            broken += [f"{path.relative_to(ROOT)} imports {n}" for n in names
                       if n.split(".")[0] not in allowed]
    assert not broken, "\n".join(broken)
