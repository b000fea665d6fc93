"""Graphs that report the user a run sees, as the custom auth guide reads it
(``config["configurable"]["langgraph_auth_user"]``) and as a graph factory gets it
(``ServerRuntime.user``)."""

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph_sdk.runtime import ServerRuntime


class Seen(TypedDict, total=False):
    seen: dict[str, Any]


def look(state: Seen, config: RunnableConfig, runtime: Runtime) -> Seen:
    configurable = config["configurable"]
    user = configurable.get("langgraph_auth_user")
    seen: dict[str, Any] = {
        "langgraph_auth_user_id": configurable.get("langgraph_auth_user_id"),
        "langgraph_auth_permissions": configurable.get("langgraph_auth_permissions"),
        "user_id": configurable.get("user_id"),
        "user": None if user is None else dict(user),
    }
    if user is not None:
        seen["attributes"] = {
            "identity": user.identity,
            "display_name": user.display_name,
            "is_authenticated": user.is_authenticated,
            "org_id": getattr(user, "org_id", None),
        }
        seen["item"] = user["identity"]
        server = runtime.server_info
        seen["server_info_user"] = (
            None if server is None or server.user is None else server.user.identity
        )
    return {"seen": seen}


graph = StateGraph(Seen).add_node(look).add_edge(START, "look").add_edge("look", END).compile()


def factory(runtime: ServerRuntime) -> Any:
    """The same graph, noting what the factory got: ``runtime.user`` and why it was called."""
    user = runtime.user
    noted = {
        "factory_user": None if user is None else user.identity,
        "access": runtime.access_context,
    }

    def note(state: Seen) -> Seen:
        return {"seen": noted}

    return StateGraph(Seen).add_node(note).add_edge(START, "note").add_edge("note", END).compile()
