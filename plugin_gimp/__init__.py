"""The GIMP 3 plug-in, shipped inside the Python package so `osdd gimp install` can copy
it. The server side never imports it; the wire format both ends share is the top-level
osdd_framing package, which the installer copies into the plug-in's folder."""
