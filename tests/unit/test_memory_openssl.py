"""memory.without_openssl: Flask's imports without libcrypto, and TLS still there for who needs it later."""

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import sys
from omv_copilot_agent import memory

with memory.without_openssl() as kept_out:
    import flask  # noqa: F401 - jinja2 (hashlib) and werkzeug (http.client -> ssl) import OpenSSL optionally
assert kept_out is True
assert "_ssl" not in sys.modules and "_hashlib" not in sys.modules, "OpenSSL was loaded by Flask's imports"
maps = open("/proc/self/maps").read()
assert "libcrypto" not in maps, "libcrypto is mapped"

import hashlib, hmac  # built-in hashes answer
assert hashlib.sha1(b"x").hexdigest() == "11f6ad8ec52a2984abaafd7c3b516503785c2072"
assert hmac.new(b"k", b"m", "sha256").hexdigest() == "b60090e3052297aeb5a080889ce2fc4bca957e756faeb4df7d31800ca1e771ec"

import ssl, smtplib, requests  # after the block TLS imports as usual
assert ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED
assert hasattr(smtplib, "SMTP_SSL")
requests.Session().get_adapter("https://example.org")  # an HTTPS adapter exists

with memory.without_openssl() as again:  # loaded now: nothing left to save, nothing blocked
    import ssl as ssl2  # noqa: F401
assert again is False
print("OK")
"""


def test_flask_imports_without_openssl_and_tls_works_after():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stderr[-2000:]
