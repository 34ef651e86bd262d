"""`python -m desktop_gui [files] [--server HOST:PORT] [--start-server]`: same as `osdd gui`."""

import sys

from backend.cli import main

sys.exit(main(["gui", *sys.argv[1:]]))
