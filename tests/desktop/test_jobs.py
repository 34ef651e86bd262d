"""DeblurJob, BatchRun and the Qt-free state, against a real server, without widgets."""

import threading

import numpy as np
import pytest

from backend.batch import CANCELLED, DONE, FAILED, BatchRun, plan_batch, summary
from backend.errors import Cancelled, InvalidRequest, Unavailable
from backend.images import read_image, write_image
from backend.rpc.client import DeblurClient
from backend.types import JobOptions, Region
from desktop_gui.jobs import DeblurJob, JobFinished, JobProgress, TilePainted

from ..conftest import InvertEngine  # noqa: TID252


def image(h=70, w=90):
    return np.random.default_rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_job_paints_tiles_inside_the_region_and_finishes(server):
    pixels = image()
    region = Region(10, 20, 50, 40)
    updates = list(DeblurJob(server.client, pixels, region, JobOptions(margin=8)).run())
    tiles = [u for u in updates if isinstance(u, TilePainted)]
    assert tiles and all(t.region.intersect(region) == t.region for t in tiles)
    assert sum(t.region.area for t in tiles) == region.area
    finished = updates[-1]
    assert isinstance(finished, JobFinished) and finished.region == region
    np.testing.assert_array_equal(finished.pixels, 255 - pixels[region.slices])
    progress = [u for u in updates if isinstance(u, JobProgress)]
    assert progress and progress[-1].tiles_done == progress[-1].tiles_total


class SeeingEngine(InvertEngine):
    """Records the shape of every image a job is prepared on: what the engine estimates on."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, ...]] = []

    def prepare(self, image, params, seed, should_stop=lambda: False):
        self.seen.append(image.shape)
        return super().prepare(image, params, seed, should_stop)


def test_job_sends_the_margin_as_context_and_gets_only_the_region_back(start_server):
    engine = SeeingEngine()
    running = start_server([engine])
    pixels = image(200, 300)
    region = Region(100, 80, 40, 30)
    updates = list(DeblurJob(running.client, pixels, region, JobOptions(margin=50)).run())
    assert engine.seen == [(130, 140, 3)]  # the region and 50 px around it, on every side
    tiles = [u for u in updates if isinstance(u, TilePainted)]
    assert sum(t.region.area for t in tiles) == region.area
    assert all(t.region.intersect(region) == t.region for t in tiles)


def test_job_estimates_remaining_time_from_a_clock(server):
    ticks = iter(range(1000))
    job = DeblurJob(server.client, image(), None, JobOptions(), clock=lambda: next(ticks))
    progress = [u for u in job.run() if isinstance(u, JobProgress) and u.tiles_done]
    first = progress[0]
    expected = first.elapsed / first.tiles_done * (first.tiles_total - first.tiles_done)
    assert first.remaining == pytest.approx(expected)
    assert progress[-1].remaining == 0


def test_cancel_stops_the_job_with_cancelled(start_server):
    gate = threading.Event()
    engine = InvertEngine(gate=gate)
    running = start_server([engine])
    job = DeblurJob(running.client, image(200, 200), None, JobOptions())
    updates = job.run()
    timer = threading.Timer(0.3, job.cancel)
    timer.start()
    with pytest.raises(Cancelled):
        for _ in updates:
            pass
    gate.set()
    timer.join()
    assert job.cancelled


def test_region_outside_the_image_is_refused(server):
    with pytest.raises(InvalidRequest, match="outside"):
        DeblurJob(server.client, image(), Region(500, 500, 10, 10), JobOptions())


def test_unreachable_server_raises_unavailable():
    with DeblurClient("127.0.0.1:1") as client:
        with pytest.raises(Unavailable):
            list(DeblurJob(client, image(), None, JobOptions()).run())


def test_batch_of_three_writes_results_and_reports_failures(server, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    for i in range(3):
        write_image(src / f"p{i}.png", image(90 + i, 100))
    (src / "broken.png").write_bytes(b"not a png")
    items = plan_batch([src], out)
    assert [i.source.name for i in items] == ["broken.png", "p0.png", "p1.png", "p2.png"]
    updates = list(BatchRun(server.client, items, JobOptions()).run())
    assert [i.status for i in items] == [FAILED, DONE, DONE, DONE]
    assert "cannot read" in items[0].error
    for i in range(3):
        np.testing.assert_array_equal(read_image(out / f"p{i}.png"),
                                      255 - read_image(src / f"p{i}.png"))
    assert any(0 < u.item.fraction < 1 for u in updates)
    text = summary(items)
    assert text.startswith("3 done, 1 failed") and "broken.png: cannot read" in text


def test_batch_refuses_to_overwrite_inputs(tmp_path):
    write_image(tmp_path / "a.png", image(8, 8))
    with pytest.raises(InvalidRequest, match="another output folder"):
        plan_batch([tmp_path], tmp_path)


def test_batch_cancel_marks_the_rest_cancelled(start_server, tmp_path):
    running = start_server([InvertEngine(tile_delay=0.05)])
    for i in range(3):
        write_image(tmp_path / f"p{i}.png", image(100, 100))
    (tmp_path / "out").mkdir()
    batch = BatchRun(running.client, plan_batch([tmp_path], tmp_path / "out"),
                     JobOptions())
    for update in batch.run():
        if update.item.fraction > 0:
            batch.cancel()
    assert [i.status for i in batch.items] == [CANCELLED] * 3
    assert not list((tmp_path / "out").iterdir())


def test_batch_with_the_server_down_fails_every_item_with_the_reason(tmp_path):
    for i in range(2):
        write_image(tmp_path / f"p{i}.png", image(8, 8))
    (tmp_path / "out").mkdir()
    with DeblurClient("127.0.0.1:1") as client:
        batch = BatchRun(client, plan_batch([tmp_path], tmp_path / "out"), JobOptions())
        list(batch.run())
    assert [i.status for i in batch.items] == [FAILED, FAILED]
    assert batch.items[1].error == batch.items[0].error != ""
