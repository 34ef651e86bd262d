"""Deblur jobs run on the engines, apart from the engines themselves: JobQueue (queue.py,
the bounded FIFO and its worker thread), DeblurService (service.py: a job's checks, its
pixels to and from float32, engine.prepare, tiles), the tiling (tiling.py), the
out-of-memory fallback (fallback.py) and the parameter checks (params.py). Knows nothing
of gRPC; the server (backend/server) and in-process callers (osdd eval, benchmarks) use it.
"""
