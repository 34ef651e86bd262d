"""Training and evaluation of the OSDD model: data, synthetic blur, perceptual metrics,
losses, the latent discriminator, the two training stages and `osdd eval`.
Nothing here is imported by the server; torch and friends load inside the commands."""
