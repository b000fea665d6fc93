"""Run-end webhooks: URL policy (SSRF guard), signing, the PostgreSQL outbox and delivery.

A run whose ``kwargs.webhook`` is set gets one POST when it ends. The statement that ends the
run also queues a ``webhook_deliveries`` row (the outbox); the webhook function claims due rows
under a lease, delivers them with retries and records every attempt in ``webhook_attempts``.
Source: Agent Server API, "Other run fields" → ``webhook``; ``langgraph.json`` ``webhooks``.
"""
