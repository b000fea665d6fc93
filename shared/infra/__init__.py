"""Local infrastructure the project starts itself (a real Kafka for ``lg-deploy up``, tests)."""
