"""The LLM answerer's settings (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.settings import Settings
from retrieval.llm.client import LlmConfig

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-local-abcdef0123456789"


def test_extractive_by_default():
    """should answer extractively unless told otherwise, with no LLM configuration."""
    settings = Settings(_env_file=None)
    assert settings.answerer == "extractive" and settings.llm_config() is None


def test_llm_from_environment(monkeypatch: pytest.MonkeyPatch):
    """should read every LLM setting, keeping the key secret."""
    monkeypatch.setenv("NEWSDESK_ANSWERER", "llm")
    monkeypatch.setenv("NEWSDESK_LLM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("NEWSDESK_LLM_MODEL", "llama3.2")
    monkeypatch.setenv("NEWSDESK_LLM_API_KEY", KEY)
    monkeypatch.setenv("NEWSDESK_LLM_TIMEOUT", "20")
    monkeypatch.setenv("NEWSDESK_LLM_MAX_TOKENS", "300")
    monkeypatch.setenv("NEWSDESK_LLM_TEMPERATURE", "0.1")
    settings = Settings(_env_file=None)
    assert settings.llm_config() == LlmConfig(
        base_url="http://localhost:11434/v1",
        model="llama3.2",
        api_key=SecretStr(KEY),
        timeout=20.0,
        max_tokens=300,
        temperature=0.1,
    )
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())


def test_llm_needs_a_url_and_a_model(monkeypatch: pytest.MonkeyPatch):
    """should refuse to start with NEWSDESK_ANSWERER=llm but nowhere to send questions."""
    monkeypatch.setenv("NEWSDESK_ANSWERER", "llm")
    monkeypatch.setenv("NEWSDESK_LLM_MODEL", "llama3.2")
    with pytest.raises(ValidationError, match="NEWSDESK_LLM_BASE_URL and NEWSDESK_LLM_MODEL"):
        Settings(_env_file=None)


def test_env_example_lists_the_llm_settings():
    """should document every LLM setting in .env.example."""
    documented = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        if name == "answerer" or name.startswith("llm_"):
            assert f"NEWSDESK_{name.upper()}=" in documented
