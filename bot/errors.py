"""What the bot says when a command fails, and which errors users can act on.

Errors the user can act on (not a moderator, the wrong place, a stale command, a bad option,
and the retrieval and ingest errors, whose messages are user-safe) get their own message.
Anything else is a failure: ``report_failure`` logs the traceback under a short error id and
apologises to the user with that id.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from discord import app_commands

from index.errors import IngestError, StoreUnavailableError
from retrieval.errors import RetrievalError

if TYPE_CHECKING:
    from bot.responders import Responder

log = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on my side (error id `{error_id}`). "
    "Please try again; if it keeps happening, tell a moderator the id."
)


DATABASE_UNREACHABLE = (
    "The database is unreachable right now, so that could not be done; questions are still answered. "
    "Please try again shortly."
)


def ingest_message(error: IngestError) -> str:
    """What to tell a user about an ingest error: its own message, but never the database's address."""
    return DATABASE_UNREACHABLE if isinstance(error, StoreUnavailableError) else str(error)


def not_moderator_message(role: str | None) -> str:
    """The one refusal of a moderator command: who may run it (Manage Server, or the moderator role)."""
    who = f"the Manage Server permission or the {role!r} role" if role else "the Manage Server permission"
    return f"Only moderators can do that: it needs {who}."


class NotModeratorError(app_commands.CheckFailure):
    """The user may not run a moderation command; the message says who may."""

    def __init__(self, role: str | None) -> None:
        """Refuse, naming the moderator ``role`` when one is configured."""
        super().__init__(not_moderator_message(role))


def user_message(error: BaseException) -> str | None:
    """The message for an error the user can act on, or None for a failure that needs an error id."""
    if isinstance(error, IngestError):
        return ingest_message(error)
    if isinstance(error, NotModeratorError | RetrievalError):
        return str(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that command here."
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return "That command has changed since Discord last loaded it; please try again in a minute."
    if isinstance(error, app_commands.TransformerError):
        return f"I could not use {error.value!r} for that option."
    return None


async def report_failure(responder: Responder, error: BaseException, *, command: str) -> str:
    """Log ``error`` with a fresh error id and apologise to the user with that id.

    Returns:
        The error id.
    """
    error_id = secrets.token_hex(4)
    log.error("/%s failed, error id %s", command, error_id, exc_info=(type(error), error, error.__traceback__))
    try:
        await responder.notice(APOLOGY.format(error_id=error_id))
    except Exception:
        log.warning("could not send the apology for error id %s", error_id, exc_info=True)
    return error_id
