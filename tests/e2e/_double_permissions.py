"""Permission bits and Discord's channel-permission algorithm, for the Discord double.

The double enforces a few of them on REST calls (sending messages, creating threads) with Discord's
answer (403, code 50013 "Missing Permissions"), and the client computes the same numbers locally
from the roles and ``permission_overwrites`` it got in GUILD_CREATE / CHANNEL_UPDATE, so a test can
take a permission away and see both the bot's own check and the server's refusal.
"""

from __future__ import annotations

from typing import Any

ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1

# What Discord gives @everyone in a new server (the parts a text bot cares about).
DEFAULT_MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_ROLE_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS | MANAGE_MESSAGES | MENTION_EVERYONE

OVERWRITE_ROLE, OVERWRITE_MEMBER = 0, 1


def channel_permissions(guild: dict[str, Any], channel: dict[str, Any], member: dict[str, Any]) -> int:
    """Discord's algorithm: owner -> all; @everyone | member roles; ADMINISTRATOR -> all; then the
    channel's @everyone overwrite, the member's roles' overwrites (all denies, then all allows), the
    member overwrite; no VIEW_CHANNEL -> nothing.  ``channel`` must be a guild channel (not a thread:
    threads use their parent's permissions)."""
    user_id = member["user"]["id"]
    if user_id == guild["owner_id"]:
        return ALL_PERMISSIONS
    roles = {r["id"]: r for r in guild["roles"]}
    perms = int(roles[guild["id"]]["permissions"])
    for rid in member["roles"]:
        if rid in roles:
            perms |= int(roles[rid]["permissions"])
    if perms & ADMINISTRATOR:
        return ALL_PERMISSIONS
    overwrites = {o["id"]: o for o in channel.get("permission_overwrites") or []}

    def apply(allow: int, deny: int) -> None:
        nonlocal perms
        perms = (perms & ~deny) | allow

    everyone = overwrites.get(guild["id"])
    if everyone is not None:
        apply(int(everyone["allow"]), int(everyone["deny"]))
    role_allow = role_deny = 0
    for rid in member["roles"]:
        ow = overwrites.get(rid)
        if ow is not None and ow["type"] == OVERWRITE_ROLE:
            role_allow |= int(ow["allow"])
            role_deny |= int(ow["deny"])
    apply(role_allow, role_deny)
    own = overwrites.get(user_id)
    if own is not None and own["type"] == OVERWRITE_MEMBER:
        apply(int(own["allow"]), int(own["deny"]))
    return perms if perms & VIEW_CHANNEL else 0
