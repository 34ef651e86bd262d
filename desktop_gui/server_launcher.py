"""`python -m desktop_gui.server_launcher APP_PID ARGS...`: becomes `osdd ARGS...` in a
process that the kernel ends when the app dies (Linux), even if the app is killed.

Tying the server to the app happens here, after exec, rather than in a preexec_fn:
forking the app itself with Python code to run in the child runs gRPC's fork handlers,
which abort the child when the app has live channels. The signal is SIGKILL: with its
only client gone there is nothing to finish gracefully.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    app_pid, args = int(argv[0]), argv[1:]
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # survives the exec below
        if os.getppid() != app_pid:  # the app died before prctl took effect
            sys.exit(1)
    os.execv(sys.executable, [sys.executable, "-m", "backend.cli", *args])


if __name__ == "__main__":
    main(sys.argv[1:])
