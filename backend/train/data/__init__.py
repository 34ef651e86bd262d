"""Training and evaluation data: paired-image loaders (GoPro, RealBlur, any two folders),
the synthetic camera-shake generator and the benchmark protocol blur.

The modules are imported one by one (`backend.train.data.protocol`, `.folders`,
`.realblur`, `.synthetic`, `.spec`, ...) so that numpy-only users such as the benchmark
protocol do not pay for torch."""
