"""`python -m backend.cli ...` is `osdd ...` (the bridge and the desktop app start the
server this way, from the interpreter they run in)."""

import sys

from . import main

sys.exit(main())
