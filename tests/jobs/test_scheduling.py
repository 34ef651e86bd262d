"""The device's scheduler: jobs in progress take turns tile batch by tile batch, several
workers share one job's batches without changing its result, a cancel only ever stops its
own job, and the pixels in progress stay within budget."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from backend.errors import Cancelled, EngineUnavailable
from backend.jobs.queue import JobQueue
from backend.jobs.service import DeblurService
from backend.types import Accepted, Done, JobSpec, Limits, Queued, TileResult

from ..conftest import InvertEngine, sample_photo  # noqa: TID252


class ThreadSpy(InvertEngine):
    """InvertEngine that notes which thread ran each batch, and when each job finished."""

    def __init__(self, tile_delay: float = 0.0) -> None:
        super().__init__(tile_delay)
        self.threads: set[str] = set()

    def prepare(self, image, params, seed, should_stop=lambda: False):
        job = super().prepare(image, params, seed, should_stop)
        inner = job.process

        def process(batch):
            self.threads.add(threading.current_thread().name)
            return inner(batch)

        return type(job)(process)


def started_queue(engines, workers=1, **limits) -> JobQueue:
    jobs = JobQueue(DeblurService(engines, Limits(**limits)), 8, workers=workers)
    jobs.start()
    return jobs


def result(handle, shape) -> tuple[np.ndarray, list]:
    out = np.zeros(shape, np.uint8)
    events = list(handle)
    for event in events:
        if isinstance(event, TileResult):
            out[event.region.slices] = event.pixels
    return out, events


def spec(image, seed=None, **params) -> JobSpec:
    return JobSpec(image, "auto", {"tile_size": 32, "overlap": 8, **params}, seed)


def photo(size: int) -> np.ndarray:
    return (sample_photo("astronaut", size) * 255).astype(np.uint8)


def test_two_workers_or_two_devices_share_one_job_and_give_the_same_result_bit_for_bit():
    from backend.engine.classical import ClassicalEngine

    image = photo(160)
    outputs = []
    for jobs in (started_queue([ClassicalEngine()]), started_queue([ClassicalEngine()], 2),
                 two_device_queue(ClassicalEngine(), ClassicalEngine())):
        out, events = result(jobs.submit(JobSpec(image, "classical", {"tile_size": 64,
                                                                      "overlap": 16})),
                             image.shape)
        assert isinstance(events[-1], Done)
        outputs.append(out)
        jobs.close()
        jobs.join(10)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(outputs[0], outputs[2])
    spy = ThreadSpy(tile_delay=0.02)
    jobs = started_queue([spy], workers=2)
    out, _ = result(jobs.submit(spec(photo(128))), (128, 128, 3))
    np.testing.assert_array_equal(out, 255 - photo(128))
    assert spy.threads == {"osdd-worker-0", "osdd-worker-1"}


def test_a_small_job_overtakes_a_large_one_with_one_worker():
    jobs = started_queue([InvertEngine(tile_delay=0.02)], workers=1, max_concurrent_jobs=2)
    large = jobs.submit(spec(np.zeros((320, 320, 3), np.uint8)))  # 169 tiles, 85 batches
    finished = {}

    def wait(name, handle, shape):
        result(handle, shape)
        finished[name] = time.monotonic()

    waiter = threading.Thread(target=wait, args=("large", large, (320, 320, 3)))
    waiter.start()
    time.sleep(0.2)
    submitted = time.monotonic()
    small = jobs.submit(spec(np.zeros((32, 32, 3), np.uint8)))
    wait("small", small, (32, 32, 3))
    waiter.join(30)
    assert finished["small"] < finished["large"]
    # It waited for about one batch of the large job, not for the job.
    assert finished["small"] - submitted < (finished["large"] - submitted) / 4


def test_cancelling_one_job_leaves_the_other_untouched():
    jobs = started_queue([InvertEngine(tile_delay=0.01)], workers=2, max_concurrent_jobs=2)
    image = photo(192)
    keep = jobs.submit(spec(image))
    drop = jobs.submit(spec(image))
    threading.Timer(0.2, drop.cancel).start()
    with pytest.raises(Cancelled):
        result(drop, image.shape)
    out, events = result(keep, image.shape)
    assert isinstance(events[-1], Done)
    np.testing.assert_array_equal(out, 255 - image)


def test_jobs_past_the_running_count_or_the_pixel_budget_wait_their_turn():
    gate = threading.Event()
    jobs = started_queue([InvertEngine(gate=gate)], workers=1, max_concurrent_jobs=2,
                         max_pixels=100_000)
    big = np.zeros((200, 400, 3), np.uint8)  # 80 000 pixels of a 125 000 budget
    first = jobs.submit(spec(big))
    second = jobs.submit(spec(big))  # would pass the budget: waits
    small = jobs.submit(spec(np.zeros((32, 32, 3), np.uint8)))  # waits behind it (FIFO)
    accepted = [next(iter(h)) for h in (first, second, small)]
    assert [a.queue_position for a in accepted] == [0, 1, 2]
    assert all(isinstance(a, Accepted) for a in accepted)
    gate.set()
    for handle, shape in ((first, big.shape), (second, big.shape), (small, (32, 32, 3))):
        events = result(handle, shape)[1]
        assert isinstance(events[-1], Done)
        assert [e.queue_position for e in events if isinstance(e, Queued)][-1:] in ([], [0])


def test_queue_positions_count_every_job_in_progress():
    gate = threading.Event()
    jobs = started_queue([InvertEngine(gate=gate)], workers=1, max_concurrent_jobs=2)
    handles = [jobs.submit(spec(np.zeros((32, 32, 3), np.uint8))) for _ in range(4)]
    firsts = [next(iter(h)) for h in handles]
    assert [f.queue_position for f in firsts] == [0, 0, 2, 3]
    handles[0].cancel()
    with pytest.raises(Cancelled):
        list(handles[0])
    # The third job started in the first one's place; the fourth moved up to 2.
    moved = [e for e in handles[3].take()[0] if isinstance(e, Queued)]
    assert moved and moved[-1].queue_position == 2
    gate.set()
    for handle in handles[1:]:
        assert isinstance(list(handle)[-1], Done)


class JobSpy(InvertEngine):
    """InvertEngine that logs, per batch, the value of the job's first pixel (its name)."""

    def __init__(self) -> None:
        super().__init__(tile_delay=0.01)
        self.log: list[int] = []

    def prepare(self, image, params, seed, should_stop=lambda: False):
        job = super().prepare(image, params, seed, should_stop)
        inner, name = job.process, int(round(float(image[0, 0, 0]) * 255))

        def process(batch):
            self.log.append(name)
            return inner(batch)

        return type(job)(process)


def test_turns_go_client_by_client_then_job_by_job():
    spy = JobSpy()
    jobs = JobQueue(DeblurService([spy], Limits(max_concurrent_jobs=4)), 8, workers=1)
    held = jobs.submit(spec(np.full((32, 32, 3), 9, np.uint8)))  # 1 batch; the first turn
    handles = [jobs.submit(spec(np.full((side, side, 3), value, np.uint8)), client=client)
               for value, client, side in ((1, "ipv4:10.0.0.1", 96), (2, "ipv4:10.0.0.1", 96),
                                           (3, "ipv4:10.0.0.2", 160))]
    jobs.start()
    for handle in [held, *handles]:
        assert isinstance(list(handle)[-1], Done)
    order = [name for name in spy.log if name != 9]
    # From the second job's first batch on, every job has started and has work left.
    first = order[order.index(2):][:12]
    # Client 10.0.0.2's one job gets every other turn; the other client's two jobs share
    # its turns (by job, the one job would get a third of them).
    assert first.count(3) == 6 and first.count(1) == first.count(2) == 3, first


class DeviceSpy(InvertEngine):
    """InvertEngine on a named device that counts the jobs it prepared and the tiles its
    own batch functions ran."""

    def __init__(self, device: str, portable: bool, fail: bool = False) -> None:
        super().__init__(tile_delay=0.01)
        self.device = device
        self.portable_jobs = portable
        self.fail = fail

    def load(self) -> None:
        if self.fail:
            raise EngineUnavailable(f"no memory left on {self.device}")


def two_device_queue(first, second) -> JobQueue:
    jobs = JobQueue(DeblurService([first], Limits(), first.device), 8,
                    devices=[DeblurService([second], Limits(), second.device)])
    jobs.start()
    return jobs


def test_a_job_of_a_device_bound_engine_is_prepared_on_each_device_that_runs_it():
    first, second = DeviceSpy("gpu:0", portable=False), DeviceSpy("gpu:1", portable=False)
    jobs = two_device_queue(first, second)
    out, events = result(jobs.submit(spec(photo(128), seed=1)), (128, 128, 3))
    np.testing.assert_array_equal(out, 255 - photo(128))
    # Each device's engine prepared the job once and ran some of its 25 tiles.
    assert first.seeds == [1] and second.seeds == [1]
    assert first.tiles_run > 0 and second.tiles_run > 0
    assert first.tiles_run + second.tiles_run == 25
    assert events[-1].device == "gpu:0,gpu:1"
    assert jobs.info().device == "gpu:0,gpu:1"


def test_a_portable_job_is_prepared_once_whatever_device_runs_its_tiles():
    first, second = DeviceSpy("cpu", portable=True), DeviceSpy("cpu", portable=True)
    jobs = two_device_queue(first, second)
    out, _ = result(jobs.submit(spec(photo(128), seed=2)), (128, 128, 3))
    np.testing.assert_array_equal(out, 255 - photo(128))
    assert first.seeds + second.seeds == [2]  # by whichever device took the start


def test_a_device_whose_engines_fail_to_load_is_left_out():
    first, broken = DeviceSpy("gpu:0", portable=False), DeviceSpy("gpu:1", False, fail=True)
    jobs = two_device_queue(first, broken)
    out, events = result(jobs.submit(spec(photo(64))), (64, 64, 3))
    np.testing.assert_array_equal(out, 255 - photo(64))
    assert first.tiles_run == 9 and broken.tiles_run == 0
    assert events[-1].device == "gpu:0" and jobs.info().device == "gpu:0"
