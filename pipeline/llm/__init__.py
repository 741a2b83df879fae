"""LLM access behind one interface (`LLMService.ask`), with a per-request cache in the store.

Backends: `openai_backend` (any OpenAI-compatible endpoint) and `offline` (no model needed).
"""
