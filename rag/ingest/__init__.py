"""Files to an index: reading text, PDF and DOCX files, cutting them into chunks, embedding and saving them.
May import: rag.config, rag.records, rag.errors, rag.language, rag.engines, rag.store."""
