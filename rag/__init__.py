"""Offline multilingual question answering over documents, with checked citations.

The packages are the stages, each importing only those listed before it:
  config, records, errors, language   settings, the typed records passed between stages, domain errors, text rules
  engines/   the model seams (Embedder, Generator protocols), local and remote engines
  store/     the index on disk: vectors (FAISS), BM25, atomic generations
  ingest/    files to documents to chunks to an index
  search/    a question to ranked passages
  pipeline   the parts assembled from settings
  answer/    passages to a checked answer in the asker's language
  evaluation, cli, web/   the edges
"""
