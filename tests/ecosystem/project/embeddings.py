"""The store's embeddings: OpenAI's, at the base URL of the environment (no tiktoken)."""

from __future__ import annotations

from langchain_openai import OpenAIEmbeddings

embeddings = OpenAIEmbeddings(model="text-embedding-3-small", check_embedding_ctx_length=False)
