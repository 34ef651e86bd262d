"""The project's side of the GIMP plug-in: the bridge process and the installer.
Client side only: grpc through backend.rpc, never the engines."""
