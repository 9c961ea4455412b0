"""The edges that serve the pipeline over HTTP: the chat UI and the OpenAI-compatible API."""
