"""Ingestion and indexing: cleaning, passages, embeddings and the on-disk store. Never imports discord."""
