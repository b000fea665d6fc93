"""Agent cards: how an A2A client learns an assistant's endpoint and abilities.

Source: Agent Server API, "A2A" (``GET /a2a/{assistant_id}/.well-known/agent-card.json`` and
``GET /.well-known/agent-card.json?assistant_id=…``).
"""

from __future__ import annotations

from a2a.compat.v0_3 import types as a2a

from shared.a2a.tasks import chat_assistant
from shared.auth.context import RequestContext
from shared.runtime.context import Runtime


async def agent_card(
    rt: Runtime, ctx: RequestContext, assistant_id: str, base_url: str
) -> a2a.AgentCard:
    """The A2A 0.3 card of a chat assistant (UUID or graph id): JSON-RPC at
    ``{base_url}/a2a/{assistant_uuid}``, streaming, text in and out, one skill (its graph).
    Raises NotFound / Invalid (unknown assistant, graph without ``messages`` input)."""
    row = await chat_assistant(rt, ctx, assistant_id)
    name = row["name"] or row["graph_id"]
    description = (
        row["description"]
        or rt.graphs.description(row["graph_id"])
        or f"LangGraph assistant '{name}' (graph '{row['graph_id']}') served by lg-deploy"
    )
    return a2a.AgentCard(
        name=name,
        description=description,
        url=f"{base_url.rstrip('/')}/a2a/{row['assistant_id']}",
        version=str(row["version"]),
        protocol_version="0.3.0",
        preferred_transport=a2a.TransportProtocol.jsonrpc.value,
        capabilities=a2a.AgentCapabilities(
            streaming=True, push_notifications=False, state_transition_history=False
        ),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain"],
        skills=[
            a2a.AgentSkill(
                id=row["graph_id"],
                name=name,
                description=description,
                tags=["langgraph", row["graph_id"]],
            )
        ],
    )
