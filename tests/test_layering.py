"""The layering rules of ARCHITECTURE.md, checked on the source rather than trusted."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package folder -> module prefixes it must never import
FORBIDDEN = {
    "backend/engine": ("grpc", "grpc_health", "grpc_reflection", "PyQt6", "backend.rpc",
                       "backend.server", "backend.cli"),
    "backend/rpc": ("torch", "diffusers", "peft", "transformers", "scipy", "PyQt6",
                    "backend.engine", "backend.server"),
    "backend/types.py": ("torch", "grpc", "scipy", "PyQt6", "backend.engine", "backend.rpc"),
    "backend/errors.py": ("torch", "grpc", "numpy", "backend.engine", "backend.rpc"),
    "backend/images.py": ("torch", "grpc", "scipy", "backend.engine", "backend.server"),
    "desktop_gui": ("torch", "diffusers", "peft", "backend.engine", "backend.server"),
    "backend/train": ("grpc", "grpc_health", "grpc_reflection", "PyQt6", "backend.rpc",
                      "backend.server", "backend.cli"),
    "backend/gimp": ("torch", "diffusers", "scipy", "PyQt6", "backend.engine",
                     "backend.server"),
}


def imported_modules(path: Path) -> set[str]:
    """Absolute names of everything a file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def python_files(where: str) -> list[Path]:
    target = ROOT / where
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*.py") if "_pb" not in p.parts)


@pytest.mark.parametrize("where", list(FORBIDDEN))
def test_layers_point_one_way(where):
    files = python_files(where)
    assert files, f"nothing found under {where}"
    broken = []
    for path in files:
        for name in imported_modules(path):
            for banned in FORBIDDEN[where]:
                if name == banned or name.startswith(banned + "."):
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "\n".join(broken)


def test_client_side_imports_without_torch_or_scipy():
    """The CLI client and DeblurClient work where torch and scipy cannot be imported."""
    code = (
        "import sys\n"
        "for banned in ('torch', 'scipy', 'diffusers', 'peft', 'transformers'):\n"
        "    sys.modules[banned] = None\n"
        "import backend.cli, backend.rpc.client, backend.images, backend.progress_bar\n"
        "loaded = [m for m in sys.modules if m.startswith(('backend.engine', 'backend.server'))]\n"
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
