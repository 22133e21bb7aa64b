"""The engine's configuration: explicit values, built from settings by the entry points."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.encoder import DEFAULT_MODEL, Backend
from retrieval.llm.client import LlmConfig
from retrieval.reader.model import MODEL_DIR


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs; built from settings by the entry points."""

    data_dir: Path
    database_url: str | None = None  # PostgreSQL shared by several processes; None: SQLite in data_dir
    refresh_seconds: float | None = 30.0  # with database_url: check for others' writes this often (None: never)
    model: str = DEFAULT_MODEL
    backend: Backend = "auto"
    chunk_words: int = 80
    chunk_overlap: int = 1
    top_k: int = 6
    threads: int | None = None
    cache_dir: Path | None = None  # converted models; default: data_dir/models
    llm: LlmConfig | None = None  # answer with this language model (the extractive answerer as its fallback)
    reader_dir: Path | None = MODEL_DIR  # the trained reader; None answers with the hand-tuned scorer
    cross_encoder: bool = True  # the reader's cross-encoder re-scores its best sentences; False: the ranker alone
