"""A Hub that cannot be reached: `--push_to_hub` checks the repository before anything is trained and refuses with an
error naming the repository, the endpoint and the cause; a push that fails at the end leaves everything saved and says
how to push the folder later. Against an endpoint that refuses connections, and a local one that refuses uploads."""

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from runs import ROOT, tiny_run


def train_avssl(argv: list[str], endpoint: str, home) -> subprocess.CompletedProcess:
    """`python train_avssl.py ARGV` against the Hub at `endpoint`, with a token."""
    environment = {**os.environ, "HF_ENDPOINT": endpoint, "HF_TOKEN": "hf_test", "HF_HOME": str(home)}
    environment.pop("HF_HUB_OFFLINE", None)
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "train_avssl.py"), *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def refusing_endpoint() -> str:
    """An address on this machine where nothing listens: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class RefusesUploads(BaseHTTPRequestHandler):
    """A Hub that knows the token and creates the repository, then refuses every upload (403)."""

    def _answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.path.startswith("/api/whoami-v2"):
            return self._answer(200, {"name": "me", "type": "user", "auth": {"accessToken": {"role": "write"}}})
        self._answer(403, {"error": "uploads are refused here"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/api/repos/create":
            endpoint = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
            return self._answer(200, {"url": f"{endpoint}/me/run", "name": "me/run", "id": "me/run"})
        self._answer(403, {"error": "uploads are refused here"})

    def log_message(self, *args):
        pass


def test_an_unreachable_hub_is_refused_before_anything_is_trained(tmp_path, avsynth):
    endpoint = refusing_endpoint()
    run = tiny_run(tmp_path / "run", avsynth, "--push_to_hub", "true", "--hub_model_id", "me/run")
    refused = train_avssl(run, endpoint, tmp_path / "home")
    assert refused.returncode == 1
    assert f"the repository me/run at {endpoint} cannot be reached or written (ConnectError:" in refused.stderr
    assert "Nothing was trained" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(os.listdir(tmp_path / "run")) == ["_avssl_run.lock"]  # no split, no model


@pytest.mark.slow
def test_a_push_that_fails_at_the_end_leaves_everything_saved_and_says_how_to_push_it(tmp_path, avsynth):
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusesUploads)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        run = tiny_run(tmp_path / "run", avsynth, "--push_to_hub", "true", "--hub_model_id", "me/run")
        failed = train_avssl([*run, "--supervised_baseline", "false"], endpoint, tmp_path / "home")
    finally:
        server.shutdown()
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert f"Pushing {tmp_path / 'run'} to me/run at {endpoint} failed" in failed.stderr
    assert f"hf upload me/run {tmp_path / 'run'} --exclude '_*' --exclude 'checkpoint-*'" in failed.stderr
    assert "Traceback" not in failed.stderr
    saved = set(os.listdir(tmp_path / "run"))
    assert {"model.safetensors", "config.json", "README.md", "eval_results.json", "all_results.json"} <= saved
    assert "AVSSL" in (tmp_path / "run" / "README.md").read_text()  # this run's card, not the Trainer's
