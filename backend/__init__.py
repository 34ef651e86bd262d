"""osdd-deblur: local one-step-diffusion motion deblurring."""

__version__ = "0.1.0"
