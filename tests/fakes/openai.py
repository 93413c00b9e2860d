#!/usr/bin/env python3
"""openai.py: a loopback fake of an OpenAI-compatible model server, for tests.

Speaks POST /v1/chat/completions (text and image_url parts) and
POST /v1/embeddings (deterministic vectors), with usage counts, from
canned replies; misbehaves on request. Python 3 standard library only.

Usage:
  openai.py --port-file F [--replies R] [--default TEXT] [--log L]
            [--fault SPEC]... [--retry-after S] [--stall S]
            [--require-key KEY] [--embed-dim N]

  --port-file F    bind 127.0.0.1 on port 0 and write the port to F
  --replies R      canned chat replies: a JSON file, or a directory.
                   JSON file: a list of rules (or {"rules": [...],
                   "default": ...}); each rule is an object with
                     "contains": substring of any message text (optional)
                     "stage":    value of the X-Fa-Stage header (optional)
                     "model":    requested model (optional)
                     "reply":    the answer: a string, or a JSON object
                                 (sent as its JSON text)
                     "times":    how many requests it may answer (default
                                 unlimited; then it is skipped)
                     "fault":    a fault kind (below) for the requests it
                                 answers
                   The first rule whose conditions all hold answers.
                   Directory: every file NAME.txt / NAME.json is a rule
                   matching prompts that contain NAME (files in name order);
                   default.txt / default.json is the default reply.
  --default TEXT   the reply when no rule matches [{"answer": "ok"}]
  --log L          append every request as one JSON line: {"n", "path",
                   "method", "headers" (all of them, as sent), "body"
                   (parsed JSON, or the raw text), "stage"}
  --fault SPEC     KIND[:COUNT][@chat|@embeddings]: the next COUNT
                   (default 1) requests (to that endpoint, default any)
                   misbehave; several --fault options queue in order.
                   Kinds: 429 (with Retry-After), 500, 503, 401, 400,
                   stall (sleep --stall seconds, then answer), truncate
                   (Content-Length larger than the body sent, then close),
                   notjson (200 with a body that is not JSON),
                   xml (the JSON-object reply rewritten as FinAgent's
                   <output> XML), missing (the reply object without its
                   first field), prose (an answer with no fields at all)
  --retry-after S  Retry-After seconds sent with 429 [1]
  --stall S        seconds a stalled reply waits [5]
  --require-key K  answer 401 unless "Authorization: Bearer K"
  --embed-dim N    embedding length [16]

Control endpoints (loopback only): GET /_stats -> {"requests", "chat",
"embeddings"}; GET /_requests -> the request log as a JSON array;
POST /_fault with {"spec": SPEC} queues a fault; POST /_shutdown stops the
server. SIGTERM stops it too.

Usage counts are deterministic: prompt_tokens = ceil(characters of all
message text / 4) + 85 per image, completion_tokens = ceil(reply
characters / 4). Embeddings: each text's vector is derived from SHA-256 of
the model name and the text (values in [-1, 1]), prompt_tokens = words.
"""
import argparse
import hashlib
import json
import math
import os
import re
import signal
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"n": 0, "chat": 0, "embeddings": 0, "faults": [], "log": [], "uses": {}}


def parse_fault(spec):
    endpoint = None
    if "@" in spec:
        spec, endpoint = spec.split("@", 1)
    kind, count = spec, 1
    if ":" in spec:
        kind, c = spec.split(":", 1)
        count = int(c)
    return {"kind": kind, "left": count, "endpoint": endpoint}


def take_fault(endpoint):
    with LOCK:
        for f in STATE["faults"]:
            if f["left"] > 0 and f["endpoint"] in (None, endpoint):
                f["left"] -= 1
                return f["kind"]
    return None


def load_rules(path):
    if not path:
        return [], None
    if os.path.isdir(path):
        rules, default = [], None
        for name in sorted(os.listdir(path)):
            stem, ext = os.path.splitext(name)
            if ext not in (".txt", ".json"):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                text = f.read()
            if stem == "default":
                default = text
            else:
                rules.append({"contains": stem, "reply": text})
        return rules, default
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        return data.get("rules", []), data.get("default")
    return data, None


def message_text(messages):
    out, images = [], 0
    for m in messages or []:
        c = m.get("content")
        if isinstance(c, str):
            out.append(c)
        elif isinstance(c, list):
            for p in c:
                if p.get("type") == "text":
                    out.append(p.get("text", ""))
                elif p.get("type") == "image_url":
                    images += 1
    return "\n".join(out), images


def to_xml(obj):
    def esc(s):
        return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    lines = ["<output>"]
    for k, v in obj.items():
        if isinstance(v, dict):
            lines.append('  <map name="%s">' % esc(k))
            for k2, v2 in v.items():
                lines.append('    <string name="%s">%s</string>' % (esc(k2), esc(v2)))
            lines.append("  </map>")
        else:
            lines.append('  <string name="%s">%s</string>' % (esc(k), esc(v)))
    lines.append("</output>")
    return "```xml\n" + "\n".join(lines) + "\n```"


def vector(model, text, dim):
    out, i = [], 0
    while len(out) < dim:
        h = hashlib.sha256(("%s\0%s\0%d" % (model, text, i)).encode()).digest()
        for k in range(0, 32, 4):
            (u,) = struct.unpack("<I", h[k : k + 4])
            out.append(round(u / 2147483647.5 - 1.0, 6))
        i += 1
    return out[:dim]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                s = {k: STATE[k] for k in ("chat", "embeddings")}
                s["requests"] = STATE["n"]
            self.send_json(200, s)
        elif self.path == "/_requests":
            with LOCK:
                log = list(STATE["log"])
            self.send_json(200, log)
        else:
            self.send_json(404, {"error": {"message": "no such path"}})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        if self.path == "/_shutdown":
            self.send_json(200, {"ok": True})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        if self.path == "/_fault":
            with LOCK:
                STATE["faults"].append(parse_fault(json.loads(raw)["spec"]))
            self.send_json(200, {"ok": True})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        endpoint = {"/v1/chat/completions": "chat", "/v1/embeddings": "embeddings"}.get(
            self.path
        )
        stage = self.headers.get("X-Fa-Stage")
        with LOCK:
            STATE["n"] += 1
            entry = {
                "n": STATE["n"],
                "path": self.path,
                "method": "POST",
                "headers": dict(self.headers.items()),
                "body": body,
                "stage": stage,
            }
            STATE["log"].append(entry)
            if endpoint:
                STATE[endpoint] += 1
        if ARGS.log:
            with LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
        if endpoint is None:
            self.send_json(404, {"error": {"message": "unknown path %s" % self.path}})
            return
        if ARGS.require_key is not None:
            if self.headers.get("Authorization") != "Bearer " + ARGS.require_key:
                # like some real servers, echo what was presented (the
                # client must keep it out of its messages)
                got = (self.headers.get("Authorization") or "").replace("Bearer ", "")
                self.send_json(401, {"error": {"message": "Incorrect API key provided: " + got}})
                return
        if not isinstance(body, dict):
            self.send_json(400, {"error": {"message": "body is not JSON"}})
            return
        fault = take_fault(endpoint)
        if endpoint == "chat":
            self.chat(body, stage, fault)
        else:
            self.embeddings(body, fault)

    def generic_fault(self, fault):
        """Handles faults that do not depend on the reply; True if handled."""
        if fault == "429":
            self.send_json(
                429,
                {"error": {"message": "Rate limit reached", "type": "rate_limit"}},
                {"Retry-After": str(ARGS.retry_after)},
            )
            return True
        if fault in ("500", "503", "401", "400"):
            self.send_json(int(fault), {"error": {"message": "fault %s on request" % fault}})
            return True
        if fault == "stall":
            time.sleep(ARGS.stall)
            return False
        if fault == "notjson":
            body = b"<html>Bad Gateway</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        return False

    def send_truncated(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) + 100))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def chat(self, body, stage, fault):
        text, images = message_text(body.get("messages"))
        reply, rule_fault = DEFAULT, None
        for i, r in enumerate(RULES):
            if "contains" in r and r["contains"] not in text:
                continue
            if "stage" in r and r["stage"] != stage:
                continue
            if "model" in r and r["model"] != body.get("model"):
                continue
            with LOCK:
                used = STATE["uses"].get(i, 0)
                if "times" in r and used >= r["times"]:
                    continue
                STATE["uses"][i] = used + 1
            reply, rule_fault = r.get("reply", DEFAULT), r.get("fault")
            break
        fault = fault or rule_fault
        if self.generic_fault(fault):
            return
        obj = reply
        if isinstance(reply, str):
            m = re.search(r"```[a-z]*\s*(.*?)```", reply, re.S)
            try:
                obj = json.loads(m.group(1) if m else reply)
            except ValueError:
                obj = None
        if fault == "xml" and isinstance(obj, dict):
            content = to_xml(obj)
        elif fault == "missing" and isinstance(obj, dict) and obj:
            first = next(iter(obj))
            content = json.dumps({k: v for k, v in obj.items() if k != first})
        elif fault == "prose":
            content = "I am not sure what to do here."
        elif isinstance(reply, str):
            content = reply
        else:
            content = json.dumps(reply)
        out = {
            "id": "chatcmpl-fake-%d" % STATE["n"],
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": math.ceil(len(text) / 4) + 85 * images,
                "completion_tokens": math.ceil(len(content) / 4),
            },
        }
        out["usage"]["total_tokens"] = out["usage"]["prompt_tokens"] + out["usage"][
            "completion_tokens"
        ]
        if fault == "truncate":
            self.send_truncated(out)
            return
        self.send_json(200, out)

    def embeddings(self, body, fault):
        if self.generic_fault(fault):
            return
        inp = body.get("input")
        if isinstance(inp, str):
            inp = [inp]
        model = body.get("model", "")
        data = [
            {"object": "embedding", "index": i, "embedding": vector(model, t, ARGS.embed_dim)}
            for i, t in enumerate(inp or [])
        ]
        words = sum(len(t.split()) for t in inp or [])
        out = {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": words, "total_tokens": words},
        }
        if fault == "truncate":
            self.send_truncated(out)
            return
        self.send_json(200, out)


def main():
    global ARGS, RULES, DEFAULT
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--replies")
    ap.add_argument("--default")
    ap.add_argument("--log")
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--stall", type=float, default=5.0)
    ap.add_argument("--require-key")
    ap.add_argument("--embed-dim", type=int, default=16)
    ARGS = ap.parse_args()
    RULES, default = load_rules(ARGS.replies)
    DEFAULT = ARGS.default or default or '{"answer": "ok"}'
    STATE["faults"] = [parse_fault(s) for s in ARGS.fault]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
    return 0


ARGS = RULES = DEFAULT = None
if __name__ == "__main__":
    sys.exit(main())
