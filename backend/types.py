"""Plain value types shared by every layer: geometry, pixel types, engine descriptions and
job events. No torch, no grpc: front ends import this freely."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError, InvalidRequest


class PixelType(enum.Enum):
    """Sample type of an image on the wire and in files."""

    U8 = "u8"
    U16 = "u16"
    F32 = "f32"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype({"u8": np.uint8, "u16": "<u2", "f32": "<f4"}[self.value])

    @property
    def max_value(self) -> float:
        """The sample value that means full intensity (1.0 for float)."""
        return {"u8": 255.0, "u16": 65535.0, "f32": 1.0}[self.value]

    @classmethod
    def of(cls, array: np.ndarray) -> PixelType:
        kinds = {np.dtype(np.uint8): cls.U8, np.dtype(np.uint16): cls.U16,
                 np.dtype(np.float32): cls.F32}
        try:
            return kinds[array.dtype.newbyteorder("=")]
        except KeyError:
            raise InvalidRequest(f"unsupported pixel dtype {array.dtype}; use uint8, uint16 or "
                            "float32") from None


#: Context sent around a region, per side: enough for the blur estimate to see several
#: kernel lengths of a small selection (with 64, a 200x120 crop of the licence-plate photo
#: came back unreadable while the whole photo reads).
DEFAULT_MARGIN = 256


@dataclass(frozen=True)
class JobOptions:
    """What a user chose for a job, as every front end holds it: engine name (or "auto"),
    engine parameters, seed, and how many pixels of context around a region are sent
    along (the blur is estimated on all of it)."""

    engine: str = "auto"
    params: Mapping[str, float] = field(default_factory=dict)
    seed: int | None = None
    margin: int = DEFAULT_MARGIN


@dataclass(frozen=True)
class Region:
    """A pixel rectangle: x, y of the top-left corner, width and height, in pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)

    @property
    def slices(self) -> tuple[slice, slice]:
        """numpy index for rows, columns of an HWC array."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def intersect(self, other: Region) -> Region:
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return Region(x, y, max(right - x, 0), max(bottom - y, 0))

    def intersects(self, other: Region) -> bool:
        return not self.intersect(other).is_empty()

    def grow(self, margin: int, bounds: Region) -> Region:
        """This region with `margin` pixels added on every side, clipped to `bounds`."""
        return Region(self.x - margin, self.y - margin, self.width + 2 * margin,
                      self.height + 2 * margin).intersect(bounds)

    def relative_to(self, origin: Region) -> Region:
        return Region(self.x - origin.x, self.y - origin.y, self.width, self.height)

    @classmethod
    def parse(cls, text: str) -> Region:
        """Parse "x,y,w,h"."""
        try:
            x, y, w, h = (int(v) for v in text.split(","))
        except ValueError:
            raise InvalidRequest(f"region must be x,y,width,height in pixels, got {text!r}"
                                 ) from None
        if w <= 0 or h <= 0:
            raise InvalidRequest(f"region width and height must be positive, got {text!r}")
        return cls(x, y, w, h)


@dataclass(frozen=True)
class ParamSpec:
    """One tunable engine parameter as GetInfo reports it."""

    name: str
    type: str  # "float", "int" or "bool"
    default: float
    minimum: float
    maximum: float
    description: str
    #: Valid values are multiples of this (counted from 0); 0: any value in range.
    step: float = 0.0

    def snap(self, value: float) -> float:
        """The valid value nearest to `value`: in range, a multiple of step, integral for
        int and bool parameters. Front ends use it to offer only what the server takes."""
        value = min(max(float(value), self.minimum), self.maximum)
        if self.step > 0:
            lo = -(-self.minimum // self.step) * self.step  # first multiple in range
            hi = (self.maximum // self.step) * self.step
            value = min(max(round(value / self.step) * self.step, lo), hi)
        return float(round(value)) if self.type in ("int", "bool") else value


@dataclass(frozen=True)
class EngineInfo:
    name: str
    description: str
    device: str
    params: tuple[ParamSpec, ...] = ()

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class Limits:
    """Bounds the server enforces on every job."""

    max_pixels: int = 100_000_000
    max_chunk_bytes: int = 1 << 20
    max_message_bytes: int = 4 << 20
    max_queued_jobs: int = 8
    #: Jobs in progress at once, their tile batches taken in turn (see backend.jobs.queue).
    max_concurrent_jobs: int = 4
    #: Server side only (not sent in GetInfo): how long an upload may pause between
    #: messages, and how many uploads, of how many bytes in all, may arrive at once.
    upload_idle_seconds: float = 30.0
    max_uploads: int = 16
    max_upload_bytes: int = 2 << 30

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:  # also refuses NaN
                raise ConfigError(f"the server limit {name} must be more than 0, got {value}")

    def check_pixels(self, width: int, height: int) -> None:
        """Raise InvalidRequest when an image of this size is over max_pixels."""
        if width * height > self.max_pixels:
            raise InvalidRequest(f"image has {width * height} pixels; this server accepts at "
                                 f"most {self.max_pixels} per job (select a smaller region "
                                 "or raise --max-pixels)")


@dataclass(frozen=True)
class ServerInfo:
    version: str
    engines: tuple[EngineInfo, ...]
    default_engine: str
    device: str
    limits: Limits

    def engine(self, name: str) -> EngineInfo | None:
        return next((e for e in self.engines if e.name == name), None)


@dataclass(frozen=True)
class JobSpec:
    """What a client asks for: the image (HWC, uint8/uint16/float32, channels 1-4; the last
    channel is alpha for 2 and 4), an engine name or "auto", and engine parameters.
    ``kernel``: the blur to remove (square float array, see backend.blur_kernel) for a
    non-blind job; None lets the engine estimate it. ``keep``: the rectangle of ``image``
    wanted back (the rest is context for the estimate); None: all of it."""

    image: np.ndarray
    engine: str = "auto"
    params: Mapping[str, float] = field(default_factory=dict)
    seed: int | None = None
    kernel: np.ndarray | None = None
    keep: Region | None = None

    @property
    def pixel_type(self) -> PixelType:
        return PixelType.of(self.image)


@dataclass(frozen=True)
class Accepted:
    job_id: str
    queue_position: int


@dataclass(frozen=True)
class Queued:
    queue_position: int


@dataclass(frozen=True)
class Progress:
    tiles_done: int
    tiles_total: int
    stage: str
    message: str = ""


@dataclass(frozen=True)
class TileResult:
    """A final region of the output; pixels are HWC in the request's pixel type."""

    region: Region
    pixels: np.ndarray


@dataclass(frozen=True)
class Done:
    """The job's last event. ``kernel``: the blur the engine removed (float32, square, sums
    to 1), for engines that work with one; None otherwise."""

    engine: str
    device: str
    engine_seconds: float
    total_seconds: float
    kernel: np.ndarray | None = None


JobEvent = Accepted | Queued | Progress | TileResult | Done
