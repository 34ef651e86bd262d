"""The osdd desktop app (PyQt6): open a photo, select a region, deblur it tile by tile
through an osdd server, compare, save; batch whole folders.

Qt-free state lives in document.py, settings.py, connection.py, local_server.py, jobs.py,
batch.py, messages.py, events.py and workspace.py; widgets are the qt_*.py modules; app.py
is the one place that creates and wires them; launch.py is the command line
(`python -m desktop_gui`, `osdd gui`). Only backend.rpc, backend.types, backend.errors,
backend.images and backend.blur_kernel are used from the backend, never the engines.
"""
