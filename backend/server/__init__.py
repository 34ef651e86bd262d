"""The gRPC server: a thin servicer over DeblurService, plus health, reflection and auth."""
