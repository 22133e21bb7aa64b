"""Which answerer the engine uses, and which of an answer's notes are for whom.

``NEWSDESK_ANSWERER=extractive`` (the default) quotes the articles: with the trained reader
(``retrieval/reader/``) when its model loads, else with the hand-tuned scorer. ``llm`` lets the
language model of ``EngineConfig.llm`` write the answer, with that quoting answerer as its
fallback (``retrieval/llm/``). The engine builds its answerer here, so choosing one never touches the
engine's ask path.
"""

from __future__ import annotations

from collections.abc import Callable

from app.config import EngineConfig
from index.encoder import Encoder
from index.store import Store
from retrieval.answer import Answer, Answerer, ExtractiveAnswerer
from retrieval.llm.answerer import FALLBACK, LEFT_OUT, LlmAnswerer
from retrieval.llm.client import ChatClient
from retrieval.reader.answerer import UPGRADE_NOTE, ReaderAnswerer
from retrieval.reader.cross import CrossScorer, load_cross
from retrieval.reader.model import ReaderModel, load_reader


def make_answerer(config: EngineConfig, encoder: Encoder, store: Store) -> Answerer:
    """The quoting answerer (reader, else hand-tuned), or (``config.llm`` set) the LLM answerer falling back to it."""
    quoting: Answerer = ExtractiveAnswerer(encoder)
    model = load_reader(config.reader_dir) if config.reader_dir else None
    if model is not None:
        quoting = ReaderAnswerer(encoder, store, model, quoting, _cross_loader(config, model))
    if config.llm is None:
        return quoting
    return LlmAnswerer(ChatClient(config.llm), quoting)


def _cross_loader(config: EngineConfig, model: ReaderModel) -> Callable[[], CrossScorer | None] | None:
    """Loads the reader's cross-encoder on first use, on the engine's backend, threads and model cache."""
    directory, spec = config.reader_dir, model.cross
    if directory is None or spec is None or not config.cross_encoder:
        return None
    cache_dir = config.cache_dir or config.data_dir / "models"
    return lambda: load_cross(directory, spec, backend=config.backend, cache_dir=cache_dir, threads=config.threads)


def fallback_notes(answer: Answer) -> list[str]:
    """Why the language model's answer was replaced by the extractive one (shown to everyone)."""
    return [note for note in answer.notes if note.endswith(FALLBACK)]


def public_notes(answer: Answer) -> list[str]:
    """What everyone reading the answer should know: all its notes but those for whoever runs the bot.

    That is the engine's (no article from the asked dates, an answer the reader is unsure of) and
    any fallback; left out are the model's dropped sentences and an index to upgrade, which the
    asker can do nothing about.
    """
    return [note for note in answer.notes if not note.startswith(LEFT_OUT) and note != UPGRADE_NOTE]


def dropped_notes(answer: Answer) -> list[str]:
    """How many model sentences were left out, and why (for whoever runs the bot)."""
    return [note for note in answer.notes if note.startswith(LEFT_OUT)]
