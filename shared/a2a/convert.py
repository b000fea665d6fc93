"""Pure mapping between A2A 0.3 objects and lg-deploy runs, threads and LangChain messages.

A task is a run, id ``<thread_id>:<run_id>``, and the runs that resume it (their metadata names
the task: :data:`TASK_KEY`); its context id is the thread id. Its state follows its latest run's
status (``pending`` submitted, ``running`` working, ``success`` completed — input-required
when the graph paused at an interrupt —, ``error``/``timeout`` failed, ``interrupted``
canceled). Its history is the thread's user and agent messages; a completed task carries the
last agent reply as its artifact, an input-required one its interrupts as data parts, as the
official server sends them. A message answering an input-required task resumes it: its data
part ``{"resume": value}``, else its text. Source: Agent Server API, "A2A" (task shape).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from a2a.compat.v0_3 import types as a2a

from shared.ids import parse_uuid
from shared.serde import dumps_str

STATES = {
    "pending": a2a.TaskState.submitted,
    "running": a2a.TaskState.working,
    "success": a2a.TaskState.completed,
    "error": a2a.TaskState.failed,
    "timeout": a2a.TaskState.failed,
    "interrupted": a2a.TaskState.canceled,
}
USER_TYPES = {"human", "user", "HumanMessageChunk"}
AGENT_TYPES = {"ai", "assistant", "AIMessageChunk"}
ARTIFACT_NAME = "Assistant Response"
INTERRUPT_ARTIFACT_NAME = "Interrupt"
INTERRUPT_ARTIFACT_DESCRIPTION = "Agent requires input to continue"


TASK_KEY = "a2a_task_id"
"""Run metadata key naming the task a run resumes (absent on a task's first run)."""


def task_id(thread_id: uuid.UUID | str, run_id: uuid.UUID | str) -> str:
    """The task id of a task's first run: ``<thread_id>:<run_id>``."""
    return f"{thread_id}:{run_id}"


def task_of(run: Mapping[str, Any]) -> str:
    """The task id of a run (a ``runs`` row or API Run): the task it resumes, else its own."""
    resumed = (run.get("metadata") or {}).get(TASK_KEY)
    return resumed if isinstance(resumed, str) else task_id(run["thread_id"], run["run_id"])


def parse_task_id(value: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """``(thread_id, run_id)`` of a task id, ``None`` when it is not one."""
    context, _, run = value.partition(":")
    thread_id, run_id = parse_uuid(context), parse_uuid(run)
    if thread_id is None or run_id is None:
        return None
    return thread_id, run_id


def text_part(text: str) -> a2a.Part:
    """A text part."""
    return a2a.Part(root=a2a.TextPart(text=text))


def graph_input(message: a2a.Message) -> dict[str, Any]:
    """The run input for an incoming message: ``{"messages": [{"role": "user", "content",
    "id"}]}``, the text parts joined by newlines, data parts as JSON text, the A2A
    ``messageId`` as the message id.

    Raises ValueError for a message not from the user, without parts, or with a file part.
    """
    if message.role != a2a.Role.user:
        raise ValueError("only messages with role 'user' can be sent")
    texts: list[str] = []
    for part in message.parts:
        content = part.root
        if isinstance(content, a2a.TextPart):
            texts.append(content.text)
        elif isinstance(content, a2a.DataPart):
            texts.append(dumps_str(content.data))
        else:
            raise ValueError("file parts are not supported; send text or data parts")
    if not texts:
        raise ValueError("the message has no parts")
    return {"messages": [{"role": "user", "content": "\n".join(texts), "id": message.message_id}]}


def resume_value(message: a2a.Message) -> tuple[bool, Any]:
    """``(True, value)`` when ``message`` answers an interrupt with a data part
    ``{"resume": value}``, else ``(False, None)``. Raises ValueError for two such parts."""
    values = [
        part.root.data["resume"]
        for part in message.parts
        if isinstance(part.root, a2a.DataPart) and "resume" in part.root.data
    ]
    if len(values) > 1:
        raise ValueError("Only one resume value is allowed in data parts")
    return (True, values[0]) if values else (False, None)


def message_text(message: a2a.Message) -> str | None:
    """The text parts of ``message`` joined by newlines; ``None`` when it has none."""
    texts = [part.root.text for part in message.parts if isinstance(part.root, a2a.TextPart)]
    return "\n".join(texts) if texts else None


def content_text(content: Any) -> str:
    """The text of a LangChain message ``content``: the string, or its text blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block if isinstance(block, str) else str(block.get("text", ""))
            for block in content
            if isinstance(block, str) or (isinstance(block, dict) and block.get("type") == "text")
        )
    return ""


def agent_message(text: str, context_id: str, task: str | None, message_id: str) -> a2a.Message:
    """An agent message with one text part."""
    return a2a.Message(
        role=a2a.Role.agent,
        parts=[text_part(text)],
        message_id=message_id,
        context_id=context_id,
        task_id=task,
    )


def history_message(message: Any, context_id: str, fallback_id: str) -> a2a.Message | None:
    """A stored LangChain message (a dict with ``type`` or ``role``, and ``content``) as an A2A
    message; ``None`` for other kinds (system, tool) and for messages without text."""
    if not isinstance(message, Mapping):
        return None
    kind = message.get("type") or message.get("role")
    text = content_text(message.get("content"))
    if not text or kind not in USER_TYPES | AGENT_TYPES:
        return None
    return a2a.Message(
        role=a2a.Role.user if kind in USER_TYPES else a2a.Role.agent,
        parts=[text_part(text)],
        message_id=str(message.get("id") or fallback_id),
        context_id=context_id,
    )


def task_state(run_status: str, values: Any) -> a2a.TaskState:
    """The task state of a run with ``run_status`` and final ``values``."""
    if run_status == "success" and isinstance(values, Mapping) and values.get("__interrupt__"):
        return a2a.TaskState.input_required
    return STATES[run_status]


def _status_text(state: a2a.TaskState, run: Mapping[str, Any]) -> str | None:
    if state == a2a.TaskState.failed:
        error = run.get("error") or {}
        return f"{error.get('error', 'Error')}: {error.get('message', '')}"
    return None


def interrupt_artifact(task: str, interrupts: Any) -> a2a.Artifact:
    """The artifact of an input-required task, as the official server makes it: one data part
    ``{id, value}`` per interrupt, with ``response_schema`` when it has one."""
    parts = []
    for item in interrupts if isinstance(interrupts, list) else []:
        if not isinstance(item, Mapping):
            continue
        data = {"id": item.get("id"), "value": item.get("value")}
        if item.get("response_schema") is not None:
            data["response_schema"] = item["response_schema"]
        parts.append(a2a.Part(root=a2a.DataPart(data=data)))
    return a2a.Artifact(
        artifact_id=f"{task}-interrupt",
        name=INTERRUPT_ARTIFACT_NAME,
        description=INTERRUPT_ARTIFACT_DESCRIPTION,
        parts=parts,
    )


def build_task(run: Mapping[str, Any], values: Any, history_length: int | None) -> a2a.Task:
    """The task of ``run`` (a ``runs`` row or API Run: ``run_id``, ``thread_id``, ``status``,
    ``updated_at``, ``metadata``, ``kwargs``, ``error``) whose final ``values`` are given once
    it ended (``None`` while active: the history is then the run's input messages). A run
    resuming a task keeps that task's id, as the official server answers.

    ``history_length`` keeps the last N history messages (0: none, ``None``: all).
    """
    context = str(run["thread_id"])
    tid = task_of(run)
    state = task_state(run["status"], values)
    source = values if values is not None else (run["kwargs"].get("input") or {})
    messages = source.get("messages") if isinstance(source, Mapping) else None
    history = [
        m
        for i, raw in enumerate(messages if isinstance(messages, list) else [])
        if (m := history_message(raw, context, f"{tid}-{i}")) is not None
    ]
    artifacts = None
    replies = [m for m in history if m.role == a2a.Role.agent]
    if state == a2a.TaskState.completed and replies:
        reply = replies[-1]
        artifacts = [
            a2a.Artifact(artifact_id=reply.message_id, name=ARTIFACT_NAME, parts=reply.parts)
        ]
    elif state == a2a.TaskState.input_required:
        artifacts = [interrupt_artifact(tid, values["__interrupt__"])]
    text = _status_text(state, run)
    status = a2a.TaskStatus(
        state=state,
        timestamp=run["updated_at"].isoformat(),
        message=agent_message(text, context, tid, f"{tid}-status") if text else None,
    )
    if history_length is not None:
        history = history[-history_length:] if history_length else []
    return a2a.Task(id=tid, context_id=context, status=status, history=history, artifacts=artifacts)


def chunk_text(data: str) -> tuple[str, str] | None:
    """``(message id, text)`` of an agent message chunk in the JSON ``data`` of a stored
    ``messages`` event (``[message, metadata]``); ``None`` for anything else."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], dict):
        return None
    message = payload[0]
    text = content_text(message.get("content"))
    if message.get("type") not in AGENT_TYPES or not text:
        return None
    return str(message.get("id") or ""), text


def status_event(
    task: str, context_id: str, status: a2a.TaskStatus, *, final: bool
) -> a2a.TaskStatusUpdateEvent:
    """A ``status-update`` stream event."""
    return a2a.TaskStatusUpdateEvent(
        task_id=task, context_id=context_id, status=status, final=final
    )


def artifact_event(task: a2a.Task, artifact: a2a.Artifact) -> a2a.TaskArtifactUpdateEvent:
    """An ``artifact-update`` stream event carrying a whole artifact of ``task``."""
    return a2a.TaskArtifactUpdateEvent(
        task_id=task.id,
        context_id=task.context_id,
        artifact=artifact,
        append=False,
        last_chunk=True,
    )
