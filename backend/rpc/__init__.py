"""The client side of the wire: conversions, the status table and DeblurClient.
Import-light (grpcio, protobuf, numpy): never imports torch or the engines."""
