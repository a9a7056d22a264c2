"""TEST SERVER ONLY: a small deterministic OpenAI-compatible chat-completions server on 127.0.0.1.

Not a model. It stands in for vLLM / Ollama / llama.cpp so the augment
stage's client is tested end to end over real HTTP without model weights:

- ``POST /v1/chat/completions`` answers a chat completion whose content is
  a JSON object with the keys the prompt's JSON skeleton names
  (``{"text": "..."}``, ``{"question": "...", "answer": "..."}``), in the
  language named by the prompt's ``Output language: zh|en`` line. The words
  are picked by a hash of the request, so the same request always gets the
  same answer and different requests get different ones.
- A prompt starting ``PII spans of types`` (ftdata/ops/pii_model.py) gets
  ``{"spans": [...]}`` from a few rules (我叫X, 住在..., my name is ...) plus
  one snippet that is not in the text, which the op must ignore.
- Failures on demand: ``server.script(["429", "500", "slow", "malformed",
  "empty", "not_json", "ok"])`` queues how the next requests are answered
  (``slow`` sleeps past the client's timeout); after the queue, every request
  gets ``server.default`` (``ok``). ``POST /control {"script": [...]}`` does
  the same from another process.
- Echo modes, a server that hands the request's ``Authorization`` header back
  (a debugging proxy, a misconfigured gateway): ``echo`` answers normally with
  the header inside every field of the content (and in an ``X-Echo-Authorization``
  response header), ``echo_not_json`` as plain text, ``echo_500`` / ``echo_400`` /
  ``echo_401`` in the error body, ``echo_malformed`` in a truncated 200 body.
  ``server.default = "echo"`` echoes on every request.
- ``server.requests`` counts completion requests (``GET /stats`` too);
  ``server.prompts`` keeps the last user message of each, and
  ``server.auth_headers`` the Authorization headers, so tests can check
  that the key was sent (and nowhere else).

Run standalone: ``python -m tests.llm_server --port 8765``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ZH_WORDS = list(
    "请问我的信用卡账单积分额度分期年费还款逾期挂失冻结怎么办理查询兑换多久能否已经现在需要帮忙确认一下"
)
EN_WORDS = "please could you tell me how my card bill points limit fee pay late lost frozen check redeem when can".split()
SKELETON_RE = re.compile(r'"(\w+)"\s*:\s*"\.\.\."')
LANG_RE = re.compile(r"output language:\s*(zh|en)", re.I)


# PII prompts (ftdata/ops/pii_model.py): names after 我叫 / my name is, addresses
# after 住在 / I live at, up to punctuation. A rule, not a model: it lets the
# op's plumbing (snippets -> placeholders, cache, budget) be tested over HTTP.
PII_PROMPT = "PII spans of types"
PII_RULES = (
    ("name", re.compile(r"(?:我叫|我是)([\u4e00-\u9fff]{2,3})(?=[，,。 ]|$)")),
    ("name", re.compile(r"[Mm]y name is ((?:[A-Z][a-z]+ ?){1,3})")),
    ("address", re.compile(r"住在([^，,。；;！!？?\n]{4,40})")),
    ("address", re.compile(r"I live at ([^,.;!?\n]{4,60})")),
)


def pii_reply(prompt: str) -> str:
    text = prompt.split(":\n", 1)[-1]
    spans = [
        {"type": kind, "text": m.group(1).strip()}
        for kind, rule in PII_RULES
        if kind in prompt.split(":\n", 1)[0]
        for m in rule.finditer(text)
    ]
    spans.append({"type": "name", "text": "a name that is not in the text"})  # must be ignored
    return json.dumps({"spans": spans}, ensure_ascii=False)


def fake_reply(body: dict) -> str:
    """The deterministic 'model': JSON with the asked-for keys, in the asked-for language."""
    messages = body.get("messages") or []
    prompt = "\n".join(str(m.get("content", "")) for m in messages)
    user = str(messages[-1].get("content", "")) if messages else ""
    if user.startswith(PII_PROMPT):
        return pii_reply(user)
    keys = SKELETON_RE.findall(prompt) or ["text"]
    match = LANG_RE.search(prompt)
    lang = match.group(1).lower() if match else "zh"
    seed = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).digest()
    out = {}
    for k, key in enumerate(keys):
        picks = [seed[(k * 7 + i) % len(seed)] for i in range(9)]
        if lang == "en":
            words = [EN_WORDS[p % len(EN_WORDS)] for p in picks]
            out[key] = " ".join(words).capitalize() + ("?" if key != "answer" else ".")
        else:
            out[key] = "".join(ZH_WORDS[p % len(ZH_WORDS)] for p in picks) + (
                "？" if key != "answer" else "。"
            )
    return json.dumps(out, ensure_ascii=False)


class FakeLLMServer:
    """Start with ``with FakeLLMServer() as server: ... server.base_url``."""

    def __init__(self, slow_seconds: float = 3.0, responder=fake_reply):
        self.slow_seconds = slow_seconds
        self.responder = responder
        self.default = "ok"
        self.requests = 0
        self.prompts: list[str] = []
        self.auth_headers: list[str] = []
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, modes: list[str]) -> None:
        with self._lock:
            self._queue.extend(modes)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests = 0
            self.prompts.clear()
            self.auth_headers.clear()

    def _next_mode(self, body: dict) -> str:
        with self._lock:
            self.requests += 1
            messages = body.get("messages") or [{}]
            self.prompts.append(str(messages[-1].get("content", "")))
            return self._queue.popleft() if self._queue else self.default

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/stats":
                    self._send(200, json.dumps({"requests": server.requests}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") == "/control":
                    server.script(json.loads(raw).get("script", []))
                    self._send(200, b"{}")
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                body = json.loads(raw)
                auth = self.headers.get("Authorization", "")
                server.auth_headers.append(auth)
                mode = server._next_mode(body)
                echoed = f"you sent Authorization: {auth}"
                if mode in ("echo_500", "echo_400", "echo_401"):
                    status = int(mode[-3:])
                    error = {"error": {"message": echoed, "type": "echo", "code": status}}
                    self._send(status, json.dumps(error).encode())
                    return
                if mode == "echo_malformed":
                    self._send(200, json.dumps({"id": echoed}).encode()[:-1] + b', "choices": [')
                    return
                if mode == "429":
                    self._send(
                        429,
                        b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                        {"Retry-After": "0"},
                    )
                    return
                if mode == "500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                    return
                if mode == "malformed":
                    self._send(200, b'{"id": "x", "choices": [ {"message": ')
                    return
                if mode == "slow":
                    time.sleep(server.slow_seconds)
                content = {
                    "empty": "",
                    "not_json": "Sure! Here is a rewrite: 好的",
                    "echo_not_json": f"Sure! ({echoed}) 好的",
                }.get(mode)
                if content is None:
                    content = server.responder(body)
                if mode == "echo":
                    fields = json.loads(content)
                    content = json.dumps(
                        {k: f"{v} ({echoed})" for k, v in fields.items()}, ensure_ascii=False
                    )
                reply = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "test"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                headers = {"X-Echo-Authorization": auth} if mode == "echo" else None
                self._send(200, json.dumps(reply, ensure_ascii=False).encode("utf-8"), headers)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(
        description="TEST SERVER: deterministic chat completions on 127.0.0.1"
    )
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = FakeLLMServer()
    server._httpd.server_close()
    server._httpd = ThreadingHTTPServer(("127.0.0.1", args.port), server._handler())
    print(f"test chat-completions server on {server.base_url}", flush=True)
    server._httpd.serve_forever()


if __name__ == "__main__":
    main()
