"""GIMP runs `osdd_deblur.py` in this folder as a script; this file only makes the folder
importable for the tests."""
