"""The GIMP 3 plug-in, shipped inside the Python package so `osdd gimp install` can copy
it and the bridge can share its wire format (`osdd_deblur/osdd_gimp/framing.py`)."""
