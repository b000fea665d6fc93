"""A local OpenAI-compatible model server for the ecosystem tests: deterministic, offline.

Graphs built from PyPI packages (``ChatOpenAI``, ``OpenAIEmbeddings``, ``init_chat_model``)
are pointed at it with ``OPENAI_BASE_URL=http://127.0.0.1:<port>/v1`` and any API key
(``OpenAIEmbeddings`` with ``check_embedding_ctx_length=False``: its tokenizer would download
tiktoken files).

Endpoints (the shapes of OpenAI's API that LangChain's clients use):

- ``POST /v1/chat/completions``: non-streamed (``chat.completion``) or streamed as SSE
  ``chat.completion.chunk`` records ending with ``data: [DONE]``, like a real provider:
  content token by token, tool calls as an id/name chunk then argument fragments, a final
  chunk with ``finish_reason`` and, with ``stream_options.include_usage``, a usage chunk.
- ``POST /v1/embeddings``: a deterministic bag-of-words vector per input (hashed words,
  L2-normalised; ``dimensions`` or 256 floats), so texts sharing words are near each other.
- ``GET /v1/models``; ``GET /_requests`` (every chat request body received, oldest first) and
  ``DELETE /_requests`` for tests that check what a graph sent.

The reply depends only on the request, so runs are repeatable:

- The user's last message may hold directives, one per line:
  ``CALL <tool> <json args>`` (call that tool; several lines = parallel calls in one turn when
  offered together) and ``SAY <text>`` (the final answer's text).
- A turn's reply: the directives' tools that are offered in this request and not yet called
  since the user's last message are called (in order, all at once). When none is left, the
  model answers with text: the ``SAY`` text if given, else ``Result: <last tool output>`` after
  tool calls, else ``Echo: <user text>``.
- A request with ``tool_choice`` naming a function (structured output through a tool) calls
  that function with the JSON of a ``CALL <that name> {...}`` directive, or ``{}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "stub-model"
_DIRECTIVE = re.compile(r"^\s*(CALL|SAY)\s+(.*?)\s*$", re.MULTILINE)
_WORD = re.compile(r"\w+")


def _text(content: Any) -> str:
    """The text of an OpenAI message ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _directives(text: str) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """``([(tool, args)], say)`` of a user message."""
    calls: list[tuple[str, dict[str, Any]]] = []
    say: str | None = None
    for kind, rest in _DIRECTIVE.findall(text):
        if kind == "SAY":
            say = rest
            continue
        name, _, raw = rest.partition(" ")
        args = json.loads(raw) if raw.strip() else {}
        calls.append((name, args))
    return calls, say


def plan(body: dict[str, Any]) -> dict[str, Any]:
    """The assistant message (OpenAI shape) answering a chat completion request ``body``."""
    messages: list[dict[str, Any]] = body.get("messages") or []
    offered = [t["function"]["name"] for t in body.get("tools") or [] if t.get("function")]
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    user_text = _text(messages[last_user].get("content")) if last_user >= 0 else ""
    calls, say = _directives(user_text)
    since = messages[last_user + 1 :]
    called = {
        c["function"]["name"] for m in since for c in m.get("tool_calls") or () if "function" in c
    }
    forced = body.get("tool_choice")
    if isinstance(forced, dict) and forced.get("function"):
        name = forced["function"]["name"]
        args = next((a for n, a in calls if n == name), {})
        return _calls(len(messages), [(name, args)])
    due = [(n, a) for n, a in calls if n in offered and n not in called]
    if due:
        return _calls(len(messages), due)
    if say is not None:
        text = say
    elif any(m.get("role") == "tool" for m in since):
        last_tool = [m for m in since if m.get("role") == "tool"][-1]
        text = "Result: " + _text(last_tool.get("content"))
    else:
        text = "Echo: " + user_text
    return {"role": "assistant", "content": text}


def _calls(turn: int, calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{turn}_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for i, (name, args) in enumerate(calls)
        ],
    }


def _usage(body: dict[str, Any], message: dict[str, Any]) -> dict[str, int]:
    prompt = len(orjson.dumps(body.get("messages") or [])) // 4
    completion = len(orjson.dumps(message)) // 4
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _tokens(text: str) -> list[str]:
    """``text`` cut into word-sized pieces that join back to it."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


async def _chunks(body: dict[str, Any], message: dict[str, Any]) -> AsyncIterator[bytes]:
    base = {"id": f"chatcmpl-{len(body.get('messages') or [])}", "object": "chat.completion.chunk"}
    base |= {"created": int(time.time()), "model": body.get("model") or MODEL}

    def record(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return b"data: " + orjson.dumps({**base, "choices": [choice], **extra}) + b"\n\n"

    yield record({"role": "assistant", "content": ""})
    if message.get("tool_calls"):
        for i, call in enumerate(message["tool_calls"]):
            head = {"index": i, "id": call["id"], "type": "function"}
            head["function"] = {"name": call["function"]["name"], "arguments": ""}
            yield record({"tool_calls": [head]})
            args = call["function"]["arguments"]
            for start in range(0, len(args), 8):
                part = {"index": i, "function": {"arguments": args[start : start + 8]}}
                yield record({"tool_calls": [part]})
        yield record({}, "tool_calls")
    else:
        for token in _tokens(message["content"]):
            yield record({"content": token})
        yield record({}, "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {**base, "choices": [], "usage": _usage(body, message)}
        yield b"data: " + orjson.dumps(usage) + b"\n\n"
    yield b"data: [DONE]\n\n"


class Stub:
    """The stub's state: the chat requests it received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        message = plan(body)
        if body.get("stream"):
            return StreamingResponse(_chunks(body, message), media_type="text/event-stream")
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(body.get('messages') or [])}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model") or MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": _usage(body, message),
            }
        )

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("dimensions") or 256)
        data = [
            {"object": "embedding", "index": i, "embedding": embed(_as_text(t), dims)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(_as_text(t).split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return JSONResponse(
            {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        )

    async def models(self, _request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def list_requests(self, _request: Request) -> Response:
        return JSONResponse(self.requests)

    async def clear_requests(self, _request: Request) -> Response:
        self.requests.clear()
        return Response(status_code=204)


def _as_text(item: Any) -> str:
    # LangChain may send token ids (lists of ints) when it counts tokens itself
    return item if isinstance(item, str) else " ".join(str(x) for x in item)


def embed(text: str, dims: int) -> list[float]:
    """A unit vector of ``dims`` floats: each word of ``text`` (lower-cased) adds 1 to the
    bucket its hash picks."""
    vector = [0.0] * dims
    for word in _WORD.findall(text.lower()):
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dims
        vector[bucket] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def create_app() -> Starlette:
    """The stub as an ASGI app."""
    stub = Stub()
    return Starlette(
        routes=[
            Route("/v1/chat/completions", stub.chat, methods=["POST"]),
            Route("/v1/embeddings", stub.embeddings, methods=["POST"]),
            Route("/v1/models", stub.models, methods=["GET"]),
            Route("/_requests", stub.list_requests, methods=["GET"]),
            Route("/_requests", stub.clear_requests, methods=["DELETE"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
