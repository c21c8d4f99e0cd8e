"""A real OpenAI-compatible teacher on 127.0.0.1 that injects faults: chat completions and the Batch API.

Faults are scripted per text by a directive inside the text, `[[429:0.3,503,ok]]`: the n-th request for that
text gets the n-th action (`503*` repeats forever; after the script, `ok`). Texts without a directive get a
random transient fault with probability `fault_rate` (seeded). Every request is logged with its time, text
and action, so tests can count requests per text and check what was answered when.

Actions: ok, 429[:seconds] (Retry-After), 500, 503, stall (sleeps `stall` seconds before answering),
malformed (200 with a truncated JSON body), drop (closes the connection without an answer), prose (an answer
that is not JSON), wrongjson (JSON of the wrong shape), refusal (message.refusal), filter
(finish_reason content_filter), 400, echo (a 400 whose body echoes the Authorization header).

Run alone for manual trials: `python tests/distill/teacher_server.py --port 8099 --fault-rate 0.3`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import random
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIRECTIVE = re.compile(r"\[\[([^\]]*)\]\]")
RANDOM_FAULTS = ("429:0.05", "500", "503", "stall", "malformed", "drop")
VOCAB = (
    "joy",
    "gratitude",
    "mild annoyance",
    "curiosity",
    "sadness",
    "relief",
    "pride",
    "nervous excitement",
)
ANSWERS = {"ok", "prose", "wrongjson", "refusal", "filter"}  # 200 responses that carry a chat answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # with the default 5, bursts of reconnects time out in connect()


class TeacherServer:
    """Threaded HTTP server; `base_url` ends in /v1. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        fault_rate: float = 0.0,
        seed: int = 0,
        stall: float = 1.0,
        latency: float = 0.0,
        reject_json_schema: bool = False,
        reject_params: tuple[str, ...] = (),
        batch_polls: int = 2,
        mgmt_faults: list[str] | None = None,
        port: int = 0,
    ):
        self.api_key, self.fault_rate, self.stall, self.latency = api_key, fault_rate, stall, latency
        self.reject_json_schema, self.reject_params, self.batch_polls = (
            reject_json_schema,
            reject_params,
            batch_polls,
        )
        self.mgmt_faults = list(mgmt_faults or [])
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.httpd = _Server(("127.0.0.1", port), _handler(self))
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> TeacherServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> TeacherServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------- bookkeeping used by tests

    def requests_for(self, text: str, after: float | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.log if e["text"] == text and (after is None or e["t"] > after)]

    def chat_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.log if e["path"] == "chat"]

    # -------------------------------------------------------- fault script

    def next_action(self, text: str) -> tuple[str, int]:
        with self.lock:
            n = self.attempts.get(text, 0)
            self.attempts[text] = n + 1
            match = DIRECTIVE.search(text)
            if match:
                return _scripted(match.group(1), n), n
            if self.fault_rate and self.rng.random() < self.fault_rate:
                return self.rng.choice(RANDOM_FAULTS), n
            return "ok", n

    def record(self, **entry: Any) -> None:
        with self.lock:
            self.log.append({"t": time.time(), **entry})

    def next_mgmt_fault(self) -> str:
        with self.lock:
            return self.mgmt_faults.pop(0) if self.mgmt_faults else "ok"


def _scripted(script: str, n: int) -> str:
    steps = [s.strip() for s in script.split(",") if s.strip()]
    for i, step in enumerate(steps):
        if step.endswith("*"):
            return step[:-1]
        if i == n:
            return step
    return "ok"


# ---------------------------------------------------------------- answers


def completion(body: dict[str, Any], action: str) -> dict[str, Any]:
    """A chat.completion object for an answer action."""
    messages = body.get("messages") or []
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = next((m["content"] for m in messages if m.get("role") == "user"), "")
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    finish = "stop"
    if action == "ok":
        message["content"] = json.dumps(_answer(system, user))
    elif action == "prose":
        message["content"] = "The writer seems happy and a little excited about it."
    elif action == "wrongjson":
        message["content"] = json.dumps({"emotion": "joy", "score": 0.9})
    elif action == "refusal":
        message["refusal"] = "I'm sorry, but I can't help with that request."
    elif action == "filter":
        finish = "content_filter"
    content = message["content"] or ""
    return {
        "id": "chatcmpl-" + hashlib.sha1(user.encode()).hexdigest()[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "teacher"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": (len(system) + len(user)) // 4 + 11,
            "completion_tokens": len(content) // 4 + 1,
            "total_tokens": 0,
        },
    }


def _answer(system: str, user: str) -> dict[str, Any]:
    h = int(hashlib.sha1(user.encode()).hexdigest(), 16)
    labels = re.search(r"^Labels: (.*)$", system, re.M)
    if labels:
        names = [w.strip() for w in labels.group(1).split(",")]
        return {"labels": [names[h % len(names)], names[(h // 7) % len(names)]]}
    # mixed case and a duplicate on purpose: the client must normalise
    return {
        "descriptors": [VOCAB[h % len(VOCAB)].title(), VOCAB[(h // 7) % len(VOCAB)], VOCAB[h % len(VOCAB)]]
    }


def error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "server_error" if status >= 500 else "invalid_request_error",
            "code": None,
        }
    }


# ---------------------------------------------------------------- HTTP


def _handler(server: TeacherServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            if not self._authorised():
                return
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("/chat/completions"):
                self._chat(json.loads(data))
            elif self.path.endswith("/files"):
                self._mgmt(lambda: self._upload(data))
            elif self.path.endswith("/batches"):
                self._mgmt(lambda: self._create_batch(json.loads(data)))
            else:
                self._json(404, error_body(404, f"no route {self.path}"))

        def do_GET(self) -> None:
            if not self._authorised():
                return
            m = re.search(r"/batches/([^/]+)$", self.path)
            if m:
                self._mgmt(lambda: self._retrieve_batch(m.group(1)))
                return
            m = re.search(r"/files/([^/]+)/content$", self.path)
            if m:
                self._mgmt(lambda: self._file_content(m.group(1)))
                return
            self._json(404, error_body(404, f"no route {self.path}"))

        # ---------------------------------------------------- chat

        def _chat(self, body: dict[str, Any]) -> None:
            user = next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")
            fmt = (body.get("response_format") or {}).get("type")
            if server.reject_json_schema and fmt == "json_schema":
                server.record(path="chat", text=user, attempt=-1, action="reject_format", status=400)
                self._json(400, error_body(400, "response_format of type json_schema is not supported"))
                return
            rejected = [p for p in server.reject_params if p in body]
            if rejected:  # like a reasoning model: "Unsupported parameter: 'max_tokens' ..."
                server.record(path="chat", text=user, attempt=-1, action="reject_param", status=400)
                self._json(
                    400,
                    error_body(
                        400, f"Unsupported parameter: '{rejected[0]}' is not supported with this model."
                    ),
                )
                return
            action, n = server.next_action(user)
            if server.latency:
                time.sleep(server.latency)
            server.record(
                path="chat",
                text=user,
                attempt=n,
                action=action,
                status=_status(action),
                format=fmt,
                params=sorted(k for k in body if k not in ("messages", "model")),
            )
            self._act(action, lambda: completion(body, action))

        def _act(self, action: str, answer) -> None:
            kind, _, arg = action.partition(":")
            if kind == "429":
                self._json(429, error_body(429, "Rate limit reached"), {"Retry-After": arg or "1"})
            elif kind in ("500", "503"):
                self._json(int(kind), error_body(int(kind), "The server had an error"))
            elif kind == "400":
                self._json(400, error_body(400, "Invalid request: the prompt was rejected"))
            elif kind == "echo":
                self._json(400, error_body(400, f"Bad key in header: {self.headers.get('Authorization')}"))
            elif kind == "stall":
                time.sleep(server.stall)
                self._json(200, answer() if action in ANSWERS else completion({}, "ok"))
            elif kind == "malformed":
                self._raw(200, b'{"id": "chatcmpl-x", "choices": [{"index": 0, "message": {"role": "assis')
            elif kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self._json(200, answer())

        # ---------------------------------------------------- batch API

        def _mgmt(self, handle) -> None:
            fault = server.next_mgmt_fault()
            server.record(path="mgmt", text=self.path, attempt=0, action=fault, status=_status(fault))
            if fault == "ok":
                handle()
            else:
                self._act(fault, lambda: {})

        def _upload(self, data: bytes) -> None:
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + data
            )
            payload = next(
                p.get_payload(decode=True)
                for p in msg.iter_parts()
                if p.get_param("name", header="content-disposition") == "file"
            )
            with server.lock:
                fid = f"file-{len(server.files) + 1}"
                server.files[fid] = payload
            self._json(
                200,
                {
                    "id": fid,
                    "object": "file",
                    "bytes": len(payload),
                    "created_at": int(time.time()),
                    "filename": "batch.jsonl",
                    "purpose": "batch",
                    "status": "processed",
                },
            )

        def _create_batch(self, body: dict[str, Any]) -> None:
            if body.get("input_file_id") not in server.files:
                self._json(404, error_body(404, "no such file"))
                return
            with server.lock:
                bid = f"batch_{len(server.batches) + 1}"
                server.batches[bid] = {
                    "id": bid,
                    "object": "batch",
                    "endpoint": body.get("endpoint"),
                    "input_file_id": body["input_file_id"],
                    "status": "validating",
                    "completion_window": body.get("completion_window"),
                    "polls": 0,
                    "created_at": int(time.time()),
                    "metadata": body.get("metadata"),
                    "output_file_id": None,
                    "error_file_id": None,
                    "request_counts": {"total": 0, "completed": 0, "failed": 0},
                }
            self._json(200, _public(server.batches[bid]))

        def _retrieve_batch(self, bid: str) -> None:
            batch = server.batches.get(bid)
            if batch is None:
                self._json(404, error_body(404, "no such batch"))
                return
            batch["polls"] += 1
            if batch["status"] != "completed":
                if batch["polls"] >= server.batch_polls:
                    _run_batch(server, batch)
                else:
                    batch["status"] = "in_progress"
            self._json(200, _public(batch))

        def _file_content(self, fid: str) -> None:
            if fid not in server.files:
                self._json(404, error_body(404, "no such file"))
                return
            self._raw(200, server.files[fid], "application/octet-stream")

        # ---------------------------------------------------- plumbing

        def _authorised(self) -> bool:
            if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._json(401, error_body(401, "Incorrect API key provided"))
                return False
            return True

        def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            self._raw(status, json.dumps(obj).encode(), "application/json", headers)

        def _raw(
            self,
            status: int,
            data: bytes,
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): nothing to do
                self.close_connection = True

    return Handler


def _status(action: str) -> int:
    kind = action.partition(":")[0]
    return {"429": 429, "500": 500, "503": 503, "400": 400, "echo": 400, "drop": 0}.get(kind, 200)


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if k != "polls"}


def _run_batch(server: TeacherServer, batch: dict[str, Any]) -> None:
    """Answer every line of a batch's input file through the same fault script; write output and error files."""
    out, err = [], []
    for line in server.files[batch["input_file_id"]].decode().splitlines():
        if not line.strip():
            continue
        req = json.loads(line)
        user = next(m["content"] for m in req["body"]["messages"] if m["role"] == "user")
        action, n = server.next_action(user)
        status = _status(action) if action not in ("stall", "malformed", "drop") else 500
        server.record(path="batch", text=user, attempt=n, action=action, status=status)
        response = {
            "status_code": status,
            "request_id": f"req_{len(out) + len(err)}",
            "body": completion(req["body"], action) if status == 200 else error_body(status, action),
        }
        entry = {
            "id": f"batch_req_{len(out) + len(err)}",
            "custom_id": req["custom_id"],
            "response": response,
            "error": None,
        }
        (out if status == 200 else err).append(json.dumps(entry))
    with server.lock:
        for name, lines in (("output_file_id", out), ("error_file_id", err)):
            if lines:
                fid = f"file-{len(server.files) + 1}"
                server.files[fid] = ("\n".join(lines) + "\n").encode()
                batch[name] = fid
    batch["status"] = "completed"
    batch["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--latency", type=float, default=0.0)
    a = ap.parse_args()
    srv = TeacherServer(port=a.port, fault_rate=a.fault_rate, latency=a.latency)
    print(f"teacher on {srv.base_url}")
    srv.httpd.serve_forever()
