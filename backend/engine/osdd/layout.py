"""The weights folder of one OSDD model and its manifest; no torch here.

    unet/, vae/, scheduler/          diffusers sub-folders of the base model (SD 2.1-base)
    text_encoder/, tokenizer/        optional: only to compute the prompt embedding
    prompt_embeds.safetensors        the cached embedding of the prompt ("" by default)
    evae_skips.safetensors           optional: the eVAE's skip convs (absent = plain VAE)
    lora_real.safetensors            optional: adapter trained on real blur (fidelity)
    lora_synthetic.safetensors       optional: adapter trained on synthetic blur (perception)
    osdd_manifest.json               timestep, prompt, versions, size and sha256 of each file
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ...files import write_text_atomically

MANIFEST = "osdd_manifest.json"
FORMAT = 1
PROMPT_EMBEDS = "prompt_embeds.safetensors"
EVAE_SKIPS = "evae_skips.safetensors"
LORA_FILES = {"real": "lora_real.safetensors", "synthetic": "lora_synthetic.safetensors"}
REQUIRED = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
            "scheduler/scheduler_config.json")
TEXT_FILES = ("text_encoder/config.json", "text_encoder/model.safetensors",
              "tokenizer/vocab.json", "tokenizer/merges.txt")
_HASH_CHUNK = 8 << 20
SMALL_FILE = 64 << 20  # hashed at every load; bigger files are only size-checked


def gamma_range(adapters: set[str] | tuple[str, ...]) -> tuple[float, float]:
    """The gammas a model with these adapters can use: [0, 1] with both; otherwise fixed
    at 0 ("synthetic" alone) or 1 ("real" alone, or none: the base model)."""
    if set(adapters) >= set(LORA_FILES):
        return 0.0, 1.0
    fixed = 0.0 if set(adapters) == {"synthetic"} else 1.0
    return fixed, fixed


@dataclass(frozen=True)
class FileEntry:
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a weights folder holds and how it was made."""

    timestep: int
    prompt: str = ""
    base: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: int = FORMAT

    def has(self, name: str) -> bool:
        return name in self.files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_HASH_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _payload_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != MANIFEST and not p.name.startswith("."))


def write_manifest(folder: Path, timestep: int, prompt: str = "", base: str = "",
                   versions: dict[str, str] | None = None) -> Manifest:
    """Hash every file of the folder and write the manifest next to them."""
    folder = Path(folder)
    files = {}
    for name in _payload_files(folder):
        path = folder / name
        files[name] = FileEntry(path.stat().st_size, sha256_of(path))
    manifest = Manifest(timestep, prompt, base, dict(versions or {}), files)
    write_text_atomically(folder / MANIFEST,
                          json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(folder: Path) -> Manifest:
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ConfigError(f"weights folder {folder} does not exist")
    if not path.is_file():
        raise ConfigError(f"{folder} is not an OSDD weights folder: {MANIFEST} is missing "
                          "(make one with `osdd models make-tiny`, or export a trained model)")
    try:
        raw = json.loads(path.read_text())
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, this version reads {FORMAT}")
        files = {k: FileEntry(int(v["bytes"]), str(v["sha256"]))
                 for k, v in raw["files"].items()}
        return Manifest(int(raw["timestep"]), str(raw.get("prompt", "")),
                        str(raw.get("base", "")), dict(raw.get("versions", {})), files,
                        raw["format"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a valid manifest: {exc}") from None


def file_problems(folder: Path, manifest: Manifest, hash_up_to: int | None = None) -> list[str]:
    """What is wrong with the folder's files against its manifest: missing required
    files, missing or resized files, and wrong hashes (only for files of at most
    `hash_up_to` bytes; None hashes all)."""
    folder = Path(folder)
    problems = [f"{name}: required but not listed in the manifest"
                for name in REQUIRED if not manifest.has(name)]
    if not manifest.has(PROMPT_EMBEDS) and not all(manifest.has(n) for n in TEXT_FILES):
        problems.append(f"{PROMPT_EMBEDS}: missing, and no text_encoder/tokenizer to "
                        "compute it")
    for name, entry in sorted(manifest.files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        size = path.stat().st_size
        if size != entry.bytes:
            problems.append(f"{name}: {size} bytes, the manifest says {entry.bytes} "
                            "(truncated or replaced?)")
        elif (hash_up_to is None or size <= hash_up_to) and sha256_of(path) != entry.sha256:
            problems.append(f"{name}: sha256 differs from the manifest (corrupt or replaced)")
    return problems


def check_folder(folder: Path) -> Manifest:
    """The folder's manifest, after the checks cheap enough for every load (sizes of all
    files, hashes of the small ones). Raises ConfigError naming every problem."""
    manifest = read_manifest(folder)
    problems = file_problems(folder, manifest, hash_up_to=SMALL_FILE)
    if problems:
        raise ConfigError(f"weights folder {folder} is damaged: " + "; ".join(problems))
    return manifest
