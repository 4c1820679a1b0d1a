"""The local CA and the dev-only certificates of the authenticated endpoints, made with openssl.

Dev-only: a local CA, a server certificate for 127.0.0.1/localhost (Kafka and FerretDB), a client
certificate (Kafka's SSL listener requires one), generated once into .local/secrets/ (mode 0700;
git-ignored like all of .local/). Nothing here is for production, where the brokers' and the
database's own administration issues all of it.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from complaints_stack.base import STATE, log, run

CERT_DAYS = 825
RENEW_SECONDS = 30 * 86_400  # regenerate certificates a month before they expire


def secrets_dir() -> Path:
    """.local/secrets/: the dev-only credentials, CA, certificates and keystore."""
    return STATE / "secrets"


OPENSSL_CONFIG = """\
# Written by deploy/local/stack.py (tls.py): extensions of the local stack's dev-only certificates.
[req]
distinguished_name = dn
prompt = no
[dn]
CN = complaints local
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


def _openssl(words: str, *args: str) -> None:
    """`openssl` with the space-separated `words`, then `args`, in .local/secrets/."""
    run(["openssl", *words.split(), *args], cwd=secrets_dir())


def _valid(cert: Path) -> bool:
    """Whether `cert` exists and stays valid for RENEW_SECONDS more."""
    if not cert.exists():
        return False
    checked = subprocess.run(
        ["openssl", "x509", "-checkend", str(RENEW_SECONDS), "-noout", "-in", str(cert)],
        capture_output=True,
        check=False,
    )
    return checked.returncode == 0


def _issue(name: str, subject: str, extensions: str) -> None:
    """A key and a certificate `name`.pem signed by the local CA."""
    key, csr, cert = f"{name}.key", f"{name}.csr", f"{name}.pem"
    _openssl("req -new -config openssl.cnf -newkey rsa:2048 -nodes", "-subj", subject,
             "-keyout", key, "-out", csr)  # fmt: skip
    _openssl("x509 -req -CA ca.pem -CAkey ca.key -sha256 -extfile openssl.cnf",
             "-extensions", extensions, "-days", str(CERT_DAYS),
             "-set_serial", f"0x{secrets.token_hex(16)}", "-in", csr, "-out", cert)  # fmt: skip
    (secrets_dir() / f"{name}.csr").unlink()


def ensure_tls(keystore_password: str) -> None:
    """The local CA, server and client certificates, and Kafka's PKCS#12 keystore (idempotent)."""
    home = secrets_dir()
    files = ("ca.pem", "server.pem", "server.p12", "client.pem")
    if (
        all((home / f).exists() for f in files)
        and _valid(home / "server.pem")
        and _valid(home / "client.pem")
    ):
        return
    if shutil.which("openssl") is None:
        raise SystemExit("[stack] openssl is needed for the local CA (apt-get install openssl)")
    log("generating the local CA and certificates (dev only) in .local/secrets/…")
    (home / "openssl.cnf").write_text(OPENSSL_CONFIG)
    ca_subject = "/CN=complaints local dev CA"
    _openssl("req -x509 -config openssl.cnf -extensions ca -newkey rsa:2048 -nodes -sha256 "
             "-days 3650 -keyout ca.key -out ca.pem", "-subj", ca_subject)  # fmt: skip
    _issue("server", "/CN=localhost", "server")
    _issue("client", "/CN=complaints-client", "client")
    pass_file = home / "keystore.pass"
    pass_file.touch(mode=0o600)
    pass_file.write_text(keystore_password + "\n")
    _openssl("pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server "
             "-out server.p12 -passout file:keystore.pass")  # fmt: skip
    for path in home.iterdir():
        path.chmod(0o600)
