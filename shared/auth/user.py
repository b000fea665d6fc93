"""The user as graphs and custom auth handlers see it, and the ``configurable`` keys that carry
it into a run.

Source: the official server (langgraph-api 0.16): a run's ``config["configurable"]`` holds
``langgraph_auth_user`` (the authenticated user, ``None`` for an anonymous caller),
``langgraph_auth_user_id`` (its identity, ``""`` when anonymous), ``langgraph_auth_permissions``
(a list) and ``user_id`` (the identity, unless the run's configurable names one). Inside the
graph the user answers both ``user.identity`` and ``user["identity"]``, extra fields too
(``user.org_id``), as LangGraph's ``ServerInfo.user`` and ``langgraph_sdk.auth.types.BaseUser``
describe; it reads as the mapping ``{"identity", "is_authenticated", "display_name", …the other
fields the ``@auth.authenticate`` function returned}`` and is stored in that JSON form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.authentication import BaseUser

from shared.auth.context import Caller


class AuthUser(dict[str, Any], BaseUser):
    """A user as a mapping (JSON as it is) with attribute access to its fields.

    ``permissions`` is the field of that name when the user had one, else the caller's
    permissions (the official server's user raises ``AttributeError`` there); a field named
    like a ``dict`` method (``items``, ``keys``…) is read with ``user["items"]``."""

    def __init__(self, fields: Mapping[str, Any], permissions: Sequence[str] = ()) -> None:
        super().__init__(fields)
        self._permissions = list(permissions)

    @classmethod
    def of(cls, caller: Caller) -> AuthUser | None:
        """``caller`` as the graph sees it; ``None`` for an anonymous caller."""
        if not caller.is_authenticated:
            return None
        fields = {
            "identity": caller.identity,
            "is_authenticated": True,
            "display_name": caller.display_name or caller.identity,
            **caller.extra,
        }
        return cls(fields, caller.permissions)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the user has no field {name!r}") from None

    @property
    def identity(self) -> str:
        return str(self["identity"])

    @property
    def display_name(self) -> str:
        return str(self["display_name"])

    @property
    def is_authenticated(self) -> bool:
        return bool(self["is_authenticated"])

    @property
    def permissions(self) -> list[str]:
        return list(self.get("permissions", self._permissions))

    def dict(self) -> dict[str, Any]:
        """The fields as a plain ``dict``."""
        return dict(self)


def auth_configurable(caller: Caller) -> dict[str, Any]:
    """The ``configurable`` keys that hand ``caller`` to a graph: ``langgraph_auth_user``,
    ``langgraph_auth_user_id``, ``langgraph_auth_permissions``."""
    return {
        "langgraph_auth_user": AuthUser.of(caller),
        "langgraph_auth_user_id": caller.identity,
        "langgraph_auth_permissions": list(caller.permissions),
    }
