"""An optional answerer that lets a language model write the answer; every quote is checked against the article.

``LlmAnswerer`` (``answerer.py``) implements the ``Answerer`` protocol of ``retrieval/answer.py``
over any OpenAI-compatible chat completions API (``client.py``), and adds a streaming API for
the bot. See README.md, "Using an LLM".
"""

from retrieval.llm.answerer import LlmAnswerer, LlmReport, ModelAnswer, fallback_note
from retrieval.llm.client import ChatClient, LlmConfig
from retrieval.llm.prompt import Turn
from retrieval.llm.streaming import Draft, throttled

__all__ = [
    "ChatClient",
    "Draft",
    "LlmAnswerer",
    "LlmConfig",
    "LlmReport",
    "ModelAnswer",
    "Turn",
    "fallback_note",
    "throttled",
]
