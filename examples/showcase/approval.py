"""``approval``: a refund that only happens after a human approves it.

    START → propose → review ─(approved)→ refund → END
                             └(rejected)→ skip ──→ END

``review`` pauses the run with ``interrupt()``: the thread becomes ``interrupted`` and its
interrupt value shows the proposed action. Resume it with a new run carrying
``Command(resume={"approved": True})`` (or ``False``, with an optional ``"comment"``).
Anything but an explicit approval skips the refund.

Input: ``{"order_id": "A-1001", "amount": 42.5, "reason": "arrived damaged"}``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class RefundState(TypedDict):
    order_id: str
    amount: float
    reason: str
    action: NotRequired[dict[str, Any]]
    approved: NotRequired[bool]
    comment: NotRequired[str]
    outcome: NotRequired[str]


def propose(state: RefundState) -> dict[str, Any]:
    """Turn the request into a concrete action for the reviewer."""
    action = {
        "kind": "refund",
        "order_id": state["order_id"],
        "amount": round(state["amount"], 2),
        "reason": state["reason"],
    }
    return {"action": action}


def review(state: RefundState) -> Command[Literal["refund", "skip"]]:
    """Pause until a human decides; then route to ``refund`` or ``skip``."""
    decision = interrupt({"question": "Approve this refund?", "action": state["action"]})
    approved = isinstance(decision, dict) and decision.get("approved") is True
    comment = str(decision.get("comment", "")) if isinstance(decision, dict) else ""
    return Command(
        update={"approved": approved, "comment": comment},
        goto="refund" if approved else "skip",
    )


def refund(state: RefundState) -> dict[str, Any]:
    """Carry out the approved action (a real project would call its payment API here)."""
    action = state["action"]
    return {"outcome": f"refunded {action['amount']:.2f} on order {action['order_id']}"}


def skip(state: RefundState) -> dict[str, Any]:
    """Record that the action was rejected and not carried out."""
    return {"outcome": f"refund for order {state['order_id']} rejected; nothing done"}


builder = StateGraph(RefundState)
builder.add_node("propose", propose)
builder.add_node("review", review)
builder.add_node("refund", refund)
builder.add_node("skip", skip)
builder.add_edge(START, "propose")
builder.add_edge("propose", "review")
builder.add_edge("refund", END)
builder.add_edge("skip", END)

graph = builder.compile()
