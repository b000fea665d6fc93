"""The security the API description (``/openapi.json``, ``/docs``) declares: ``langgraph.json``
``auth.openapi``, applied as the official server applies it (see
:class:`~shared.graphs.config.AuthOpenApi`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.graphs.config import AuthOpenApi


def declare_security(app: FastAPI, security: AuthOpenApi) -> None:
    """Make ``app``'s API description declare ``security``: its ``securitySchemes`` replace
    the components', its ``security`` is every operation's default, and its ``paths`` set the
    requirement of the operations they name (paths and methods the API lacks are ignored)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()
        if fresh:
            if security.security_schemes is not None:
                schema.setdefault("components", {})["securitySchemes"] = security.security_schemes
            if security.security is not None:
                schema["security"] = security.security
            for path, methods in security.paths.items():
                for method, requirement in methods.items():
                    operation = schema["paths"].get(path, {}).get(method.lower())
                    if operation is not None:
                        operation["security"] = requirement
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
