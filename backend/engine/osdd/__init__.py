"""The OSDD model (Liu et al. 2025): an SD 2.1 UNet run once with two LoRA adapters mixed
by gamma, between the encoder and the skip-fed decoder of an enhanced VAE.

Modules: evae (encoder skips into the decoder), dda (the dynamic dual adapter),
pipeline (the one-step pipeline), layout/loading (weights on disk), building (tiny and
full-size random models), engine (the server's "osdd" engine). Importing this package
imports nothing heavy; diffusers loads when a module that needs it is imported.
"""
