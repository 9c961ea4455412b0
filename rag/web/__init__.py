"""The web edge over the core pipeline: the Gradio chat UI (`rag serve`); the core never imports it."""
