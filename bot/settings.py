"""Settings from the environment and ``.env``: ``NEWSDESK_*`` variables, plus ``DISCORD_TOKEN``.

Only the entry points (the ``newsdesk`` CLI and the bot) read settings; the libraries in
``index/`` and ``retrieval/`` take explicit arguments.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.config import EngineConfig
from bot.shards import parse_shard_ids
from index.encoder import DEFAULT_MODEL
from retrieval.llm.client import LlmConfig

# A bot token is three base64url parts separated by dots (user id, timestamp, HMAC).
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
_PLACEHOLDERS = frozenset({"changeme", "your-token-here", "token", "xxx"})


class Settings(BaseSettings):
    """Every setting of newsdesk; see ``.env.example`` for what each one does."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path("data")
    # PostgreSQL shared by several processes (postgresql://user@host/db); unset: SQLite in data_dir.
    database_url: SecretStr | None = None
    cache_dir: Path | None = None
    model: str = DEFAULT_MODEL
    encoder: Literal["auto", "torch", "openvino"] = "auto"
    threads: int | None = Field(default=None, ge=1, le=256)
    chunk_words: int = Field(default=80, ge=20, le=400)
    chunk_overlap: int = Field(default=1, ge=0, le=5)
    top_k: int = Field(default=6, ge=1, le=50)
    # The reader re-reads its best sentences with a cross-encoder (about 20 ms and 135 MB); false: the ranker alone.
    cross_encoder: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "NEWSDESK_DISCORD_TOKEN")
    )
    guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    moderator_role: str | None = None
    discord_api_base: str | None = None
    use_embeds: bool = True
    asks_per_minute: int = Field(default=6, ge=1, le=600)
    sync_commands: bool = True  # bot only: register the slash commands with Discord at start-up
    allow_private_urls: bool = False
    feed_interval_minutes: float = Field(default=15.0, gt=0)
    # Entries read per feed and poll; index.feedpoller.DEFAULT_MAX_ENTRIES (not imported: it pulls in trafilatura).
    feed_max_entries: int = Field(default=500, ge=1)
    # A conversation (follow-up questions in a thread) ends this long after its last question.
    conversation_minutes: float = Field(default=30.0, gt=0, le=7 * 24 * 60)
    # How often the bot checks for daily digests that are due (seconds).
    digest_check_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Discord shards this bot process runs (bot.shards, docs/scaling.md); `newsdesk bot --shard-ids/--shard-count`
    # override them. Checked together when the bot starts; neither = one unsharded session.
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    shard_count: int | None = None

    answerer: Literal["extractive", "llm"] = "extractive"
    llm_base_url: str | None = None  # an OpenAI-compatible API root, e.g. http://localhost:11434/v1
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=60.0, gt=0, le=600)
    llm_max_tokens: int = Field(default=512, ge=64, le=8192)
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    @field_validator("guild_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(r"postgres(ql)?://", value.get_secret_value().strip()):
            raise ValueError("NEWSDESK_DATABASE_URL must be a postgresql:// URL (unset it to use SQLite)")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        return parse_shard_ids(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _llm_is_configured(self) -> Settings:
        if self.answerer == "llm" and not (self.llm_base_url and self.llm_model):
            raise ValueError("NEWSDESK_ANSWERER=llm needs NEWSDESK_LLM_BASE_URL and NEWSDESK_LLM_MODEL")
        return self

    def llm_config(self) -> LlmConfig | None:
        """How to reach the language model, or ``None`` when answers are extractive."""
        if self.answerer != "llm" or not self.llm_base_url or not self.llm_model:
            return None
        return LlmConfig(
            base_url=self.llm_base_url,
            model=self.llm_model,
            api_key=self.llm_api_key,
            timeout=self.llm_timeout,
            max_tokens=self.llm_max_tokens,
            temperature=self.llm_temperature,
        )

    def store_url(self) -> str | None:
        """NEWSDESK_DATABASE_URL as text (it may hold a password: never log it); None for SQLite in data_dir."""
        return self.database_url.get_secret_value().strip() if self.database_url else None

    def engine_config(self) -> EngineConfig:
        """The engine's view of these settings."""
        return EngineConfig(
            data_dir=self.data_dir,
            database_url=self.store_url(),
            model=self.model,
            backend=self.encoder,
            chunk_words=self.chunk_words,
            chunk_overlap=self.chunk_overlap,
            top_k=self.top_k,
            threads=self.threads,
            cache_dir=self.cache_dir,
            llm=self.llm_config(),
            cross_encoder=self.cross_encoder,
        )

    def require_token(self) -> str:
        """The Discord token, or a clear error when it is missing or malformed.

        Raises:
            ValueError: with a message that says what to set.
        """
        if self.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set: put the bot token in the environment or in .env")
        token = self.discord_token.get_secret_value().strip()
        if token.casefold() in _PLACEHOLDERS or not _TOKEN_SHAPE.match(token):
            raise ValueError(
                "DISCORD_TOKEN does not look like a bot token (three dot-separated parts); "
                "copy it from the Developer Portal, Bot tab"
            )
        return token


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
