"""The plug-in's logic. Standard library only (GIMP's Python may have nothing else), except
`host_gimp` and `dialog`, which are the thin adapters over gi.repository."""
