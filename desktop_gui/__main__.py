"""`python -m desktop_gui [files] [--server HOST:PORT] [--start-server]`: same as `osdd gui`."""

import sys

from .launch import main

sys.exit(main())
