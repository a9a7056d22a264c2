"""A build that used an API key leaves it nowhere: params, logs, metrics, caches, exports, git.

The key reaches ftdata only through the environment. The build here turns the
model-backed augmentation ops on (``augment.llm.enabled``) against a stub
OpenAI-compatible server on 127.0.0.1 that this test runs (no model can run
here; the stub stands in for vLLM / a hosted API and checks it was really sent
the key). The stub is hostile: it echoes the request's Authorization header back
in every completion, in a response header, in a 500 error body and in a
non-JSON answer, so the key reaches the client in every way a server can hand
it back (ftdata/augment/llm.py scrubs it before anything is cached or written). Then every file of the project is scanned for the key
(ftdata/secrets_scan.py decodes parquet, gzip/zlib and git objects too).
To stay within the CI budget it starts from the session's built example, so the
stages before augment (which read no key) ran without it in their environment.

Still to cover when they exist: other model-backed ops (LLM annotation,
LLM-as-judge quality scores) must be switched on in this same build, and any
new place they write (request logs, traces) is scanned by the same walk.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ftdata.secrets_scan import scan_for_secret
from tests.conftest import copy_built, run

pytestmark = pytest.mark.e2e

KEY = "sk-test-ftdata-7Qx2vN9pL4mK8rT1wZ6yB3cD"
KEY_VARS = ("FTDATA_LLM_API_KEY", "OPENAI_API_KEY")  # the augment ops' variable, and the usual one


class _StubModel(BaseHTTPRequestHandler):
    """Chat completions that parse ({"text"} or {"question", "answer"} in the asked language),
    each field ending with the Authorization header it was sent; the first request gets a 500
    whose body echoes the header, the second a plain-text answer that does."""

    seen_auth: list[str] = []

    def _reply(self, status: int, data: bytes, auth: str) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-echo-authorization", auth)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        auth = self.headers.get("authorization", "")
        type(self).seen_auth.append(auth)
        echoed = f"(you sent Authorization: {auth})"
        if len(type(self).seen_auth) == 1:
            self._reply(500, json.dumps({"error": {"message": echoed}}).encode(), auth)
            return
        prompt = "\n".join(m.get("content", "") for m in body.get("messages", []))
        english = re.search(r"Output language:\s*(en|English)\b", prompt) is not None
        if '"question"' in prompt:
            fields = (
                {
                    "question": "How do I check my credit card bill?",
                    "answer": "Open the app and tap Bills.",
                }
                if english
                else {
                    "question": "信用卡账单在哪里查看？",
                    "answer": "请登录手机银行，进入账单页面查看。",
                }
            )
        else:
            fields = {
                "text": "How can I check this month's bill?"
                if english
                else "请问这个月的账单怎么查看呢？"
            }
        fields = {k: f"{v} {echoed}" for k, v in fields.items()}
        content = json.dumps(fields, ensure_ascii=False)
        if len(type(self).seen_auth) == 3:
            content = f"Sure, here you go {echoed}"
        reply = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "stub"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": content,
                    },
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        self._reply(200, json.dumps(reply).encode("utf-8"), auth)

    def log_message(self, *args) -> None:  # keep pytest output quiet
        pass


@pytest.fixture
def stub_model():
    _StubModel.seen_auth = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_build_that_used_an_api_key_leaves_it_nowhere_in_the_project(
    tmp_path, stub_model, built_project
):
    # The session's built example (its DVC cache included); turning the model-backed ops on
    # reruns augment and every stage after it with the key in the environment.
    project = tmp_path / "project"
    copy_built(built_project, project)
    env = {var: KEY for var in KEY_VARS}
    overrides = [
        "augment.llm.enabled=true",
        f"augment.llm.base_url={stub_model}",
        "augment.llm.max_calls=40",
    ]
    logs = project / "logs"
    logs.mkdir()
    composed = run(["ftdata", "compose", *overrides], project, env=env)
    build = run(["dvc", "repro"], project, env=env)
    funnel = run(["ftdata", "funnel"], project, env=env)
    # What CI would keep as logs: every command's output.
    (logs / "build.log").write_text(
        "\n".join(p.stdout + p.stderr for p in (composed, build, funnel)), encoding="utf-8"
    )
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "build with a key in the environment"], project)

    assert "Running stage 'augment'" in build.stdout
    # The key was really used: the model server received it on every call.
    assert _StubModel.seen_auth, "augment made no model call: the test would prove nothing"
    assert set(_StubModel.seen_auth) == {f"Bearer {KEY}"}
    assert (project / "data/metrics/augment.json").is_file()
    assert any((project / "data/cache/llm").rglob("*")), (
        "the model-call cache is part of what gets scanned"
    )

    # The echo came back and was stored scrubbed (so the scan below is not vacuous).
    cached = "".join(p.read_text() for p in (project / "data/cache/llm").rglob("*.json"))
    assert "Bearer <REDACTED_API_KEY>" in cached
    findings = scan_for_secret(project, KEY)
    assert findings == [], [f"{f.path} ({f.how})" for f in findings]
    # The scan is not blind: the same walk finds a copy planted in the logs.
    (logs / "planted.log").write_text(f"Authorization: Bearer {KEY}\n", encoding="utf-8")
    assert [(f.path, f.how) for f in scan_for_secret(project, KEY, include_git=False)] == [
        ("logs/planted.log", "bytes")
    ]
