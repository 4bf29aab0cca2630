"""memory.without_openssl: Flask's imports without libcrypto, and TLS still there for who needs it later."""

import subprocess
import sys

import pytest

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

import http.client, urllib.request  # imported again after the block: with HTTPS
assert hasattr(http.client, "HTTPSConnection") and hasattr(urllib.request, "HTTPSHandler")
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


DAEMON_SCRIPT = r"""
import subprocess, sys
from omv_copilot_agent import memory

with memory.without_openssl():  # exactly what `omv-copilot daemon` imports in the block (cli/daemon.py)
    from omv_copilot_agent.api import create_app  # noqa: F401
    from omv_copilot_agent.daemon import serve  # noqa: F401
    from omv_copilot_agent.daemon.agent import Agent  # noqa: F401
cert, key = sys.argv[1], sys.argv[2]
server = subprocess.Popen([sys.executable, "-c", '''
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-type", "application/json"); self.end_headers()
        self.wfile.write(b'{"ok": true}')
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True); s.serve_forever()
''', cert, key], stdout=subprocess.PIPE, text=True)
try:
    url = f"https://127.0.0.1:{int(server.stdout.readline())}/hook"
    from omv_copilot_agent.alerts.notify import Notifier
    from omv_copilot_agent.assist.providers.base import post_json
    Notifier._post(None, {"url": url}, {"json": {"text": "x"}, "verify": cert})  # webhooks, ntfy, Slack
    assert post_json({"verify_tls": False, "timeout_s": 10}, url, {}, {"a": 1}) == (200, {"ok": True})  # LLM providers
    import smtplib
    assert smtplib._have_ssl  # STARTTLS and SMTP_SSL available
finally:
    server.terminate()
print("OK")
"""


def test_the_daemons_https_clients_work_after_its_start_up_imports(tmp_path):
    """The block imports http.client and urllib.request without ssl (no HTTPS classes there, for good):
    the daemon's HTTPS senders (requests, smtplib, imported when they send) must not depend on them."""
    import shutil

    if not shutil.which("openssl"):
        pytest.skip("no openssl binary to make the loopback server's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1"],
                   check=True, capture_output=True, timeout=60)
    out = subprocess.run([sys.executable, "-c", DAEMON_SCRIPT, str(cert), str(key)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-2000:]
