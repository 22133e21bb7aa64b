"""Errors raised while answering; each message is safe to show to users.

The tree::

RetrievalError
├── BadQuestionError     empty or oversized question
└── IndexNotReadyError   there are no articles in scope yet
"""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class: ``str(err)`` can be shown to users as is."""


class BadQuestionError(RetrievalError):
    """The question is empty, or too long to be a question."""


class IndexNotReadyError(RetrievalError):
    """Nothing is indexed in the collections the question may search."""
