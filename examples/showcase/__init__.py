"""Example graphs served by ``lg-deploy dev --config examples/langgraph.json``."""
