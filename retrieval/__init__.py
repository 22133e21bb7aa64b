"""Retrieval and answering over the index: hybrid search, extractive answers, summaries. Never imports discord."""
