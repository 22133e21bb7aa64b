"""Errors raised while reading, fetching and indexing articles.

Every error carries a message that is safe to show to a user as is::

    IngestError
    ├── NotAnArticleError      the input holds no article (binary, empty, login wall, ...)
    ├── FetchError             a URL could not be fetched
    │   ├── UnsafeURLError     the URL points at a private or otherwise refused address
    │   ├── InvalidURLError    the text is not an http(s) URL
    │   ├── HostNotFoundError  the host name does not resolve
    │   ├── FetchTimeoutError  the site was too slow
    │   ├── HTTPStatusError    the site answered 4xx/5xx (``.status``)
    │   ├── RedirectError      redirect loop or too many redirects
    │   ├── ContentTypeError   not HTML or a feed (image, PDF, ...; ``.content_type``)
    │   ├── ContentEncodingError  compressed several times over, in an unknown format, or damaged
    │   └── TooLargeError      the body is over the size limit
    ├── FeedError              a feed is malformed or not a feed
    └── UnusableIndexError     the on-disk index is missing, corrupt or from another model
        ├── NoIndexError       nothing was ever indexed in the data folder
        ├── ModelMismatchError the index was built with another embedding model
        ├── SchemaVersionError the database's schema is older or newer than this code
        └── StoreUnavailableError  the shared database (PostgreSQL) cannot be reached
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


class UnusableIndexError(IngestError):
    """The on-disk index cannot be used as it is."""


class NoIndexError(UnusableIndexError):
    """The data folder holds no index, and the caller asked not to create one."""


class ModelMismatchError(UnusableIndexError):
    """The index was built with a different embedding model or dimension."""


class SchemaVersionError(UnusableIndexError):
    """The database's schema version is not the one this code reads (``newsdesk db upgrade``)."""


class StoreUnavailableError(UnusableIndexError):
    """The shared database cannot be reached (wrong URL, server down): writes wait until it is back."""


class InvalidURLError(FetchError):
    """The text is not an absolute http(s) URL."""


class HostNotFoundError(FetchError):
    """The URL's host name does not resolve (typo, dead domain, DNS failure)."""


class FetchTimeoutError(FetchError):
    """The site did not answer within the time limit."""


class HTTPStatusError(FetchError):
    """The site answered with an error status; ``status`` holds it for logs and retries."""

    def __init__(self, message: str, *, status: int) -> None:
        """Keep the status next to the user-facing message."""
        super().__init__(message)
        self.status = status


class RedirectError(FetchError):
    """The URL redirects in a loop or through too many hops."""


class ContentTypeError(FetchError):
    """The URL serves something other than a web page or feed; ``content_type`` says what."""

    def __init__(self, message: str, *, content_type: str) -> None:
        """Keep the content type next to the user-facing message."""
        super().__init__(message)
        self.content_type = content_type


class ContentEncodingError(FetchError):
    """The body's ``Content-Encoding`` is refused: stacked codings (a bomb's trick), an unknown one, or damaged data."""


class TooLargeError(FetchError):
    """The response body exceeds the size limit."""
