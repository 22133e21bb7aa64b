"""Errors raised while reading, fetching and indexing articles.

Every error carries a message that is safe to show to a user as is::

    IngestError
    ├── NotAnArticleError      the input holds no article (binary, empty, login wall, ...)
    ├── FetchError             a URL could not be fetched
    │   └── UnsafeURLError     the URL points at a private or otherwise refused address
    ├── FeedError              a feed is malformed or not a feed
    └── IndexError_            the on-disk index is missing, corrupt or from another model
        └── ModelMismatchError the index was built with another embedding model
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class: ``str(err)`` is a short message that can be shown to users."""


class NotAnArticleError(IngestError):
    """The input is not an article: binary, empty, wrong encoding, or no body text."""


class FetchError(IngestError):
    """A URL could not be fetched (network, status, size or content type)."""


class UnsafeURLError(FetchError):
    """The URL resolves to an address that is not public (SSRF guard)."""


class FeedError(IngestError):
    """A feed could not be parsed."""


class IndexError_(IngestError):  # noqa: N801 - trailing underscore avoids shadowing the builtin
    """The on-disk index cannot be used as it is."""


class ModelMismatchError(IndexError_):
    """The index was built with a different embedding model or dimension."""
