"""TLS: a server with a certificate serves a client that trusts it."""

import shutil
import subprocess

import numpy as np
import pytest

from backend.errors import ConfigError
from backend.jobs.service import DeblurService
from backend.rpc.client import DeblurClient
from backend.server.app import DeblurServer, ServerConfig

from ..conftest import InvertEngine  # noqa: TID252


@pytest.fixture
def certificate(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


def test_tls_server_serves_a_client_that_trusts_its_certificate(certificate):
    key, cert = certificate
    config = ServerConfig(port=0, tls_cert=cert, tls_key=key)
    server = DeblurServer(config, DeblurService([InvertEngine()])).start()
    try:
        with DeblurClient(f"localhost:{server.port}", root_certificates=cert) as client:
            client.wait_until_serving(10)
            image = np.zeros((8, 8, 3), np.uint8)
            assert (client.deblur_image(image) == 255).all()
    finally:
        server.stop(0)


def test_tls_needs_both_files(certificate):
    _, cert = certificate
    with pytest.raises(ConfigError, match="both"):
        DeblurServer(ServerConfig(port=0, tls_cert=cert), DeblurService([InvertEngine()]))
