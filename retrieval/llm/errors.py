"""Why a language model gave no usable answer; the answerer turns each into a fallback note.

The tree::

RetrievalError
└── LlmError                 the model gave no usable answer (``str(err)`` is the user-safe reason)
    ├── LlmTimeoutError      no bytes for longer than the configured timeout
    ├── LlmConnectionError   the server could not be reached, or dropped the connection
    ├── LlmHttpError         the server answered with an HTTP error status
    └── LlmReplyError        the reply was not in the expected form (malformed JSON, a cut stream)
"""

from __future__ import annotations

from retrieval.errors import RetrievalError


class LlmError(RetrievalError):
    """Base class: ``str(err)`` says in a few words why the model's answer is missing."""


class LlmTimeoutError(LlmError):
    """The model did not answer (or stopped streaming) within the timeout."""


class LlmConnectionError(LlmError):
    """The model's server could not be reached or closed the connection."""


class LlmHttpError(LlmError):
    """The server answered with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the language model failed (HTTP {status})")
        self.status = status


class LlmReplyError(LlmError):
    """The reply could not be read: not the requested JSON, no text at all, or a stream cut midway."""
