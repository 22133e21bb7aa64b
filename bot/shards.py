"""Which Discord shards this process runs (``newsdesk bot --shard-ids 0-3 --shard-count 8``).

Discord splits a bot's servers into ``count`` shards, one gateway session each; a server's events
arrive on shard ``(guild_id >> 22) % count`` (``shard_of``), direct messages on shard 0. Several
processes share the load by each running its own ids out of the same count. Without ids or count
the bot connects as one unsharded session, as it always did. See docs/scaling.md.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

_PART = re.compile(r"^(\d+)(?:-(\d+))?$")


class ShardPlan(BaseModel):
    """The shards one process runs: ``ids`` (ascending, distinct, each in ``[0, count)``) out of ``count``."""

    model_config = ConfigDict(frozen=True)

    ids: tuple[int, ...]
    count: int

    def describe(self) -> str:
        """For the logs: ``shards 0, 1 of 4``."""
        return f"shard{'s' if len(self.ids) > 1 else ''} {', '.join(map(str, self.ids))} of {self.count}"


def shard_of(guild_id: int, count: int) -> int:
    """The shard whose session receives the events of server ``guild_id`` (Discord's formula)."""
    return (guild_id >> 22) % count


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``"0,1"``, ``"0-3"`` or ``"0-3,8"`` as shard ids, in the order given.

    Ranges let a systemd instance name (``newsdesk-bot@0-3``, no commas allowed) be the ids as they are.

    Raises:
        ValueError: a part that is not a whole number or a range ``A-B`` with ``A <= B``, none at all,
            or an id given twice.
    """
    ids: list[int] = []
    for part in text.split(","):
        match = _PART.match(part.strip())
        if match is None:
            raise ValueError(f"{part.strip()!r} is not a shard id or a range of them (use e.g. 0,1 or 0-3)")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"the shard range {part.strip()!r} runs backwards (use {last}-{first})")
        ids.extend(range(first, last + 1))
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"shard id {repeated[0]} is given twice")
    return tuple(ids)


def parse_shard_count(text: str) -> int:
    """The total number of shards, from text.

    Raises:
        ValueError: not a whole number.
    """
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"the shard count must be a whole number, not {text.strip()!r}") from None


def plan_shards(ids: tuple[int, ...] | None, count: int | None) -> ShardPlan | None:
    """The shards to run, or ``None`` (no ids, no count) for one unsharded session.

    A count alone runs every shard of it in this process.

    Raises:
        ValueError: ids without a count, a count below 1, ids outside ``[0, count)`` or repeated.
    """
    if ids is None and count is None:
        return None
    if count is None:
        raise ValueError("shard ids need the total number of shards: add --shard-count (or set NEWSDESK_SHARD_COUNT)")
    if count < 1:
        raise ValueError(f"the shard count must be at least 1, not {count}")
    if ids is None:
        return ShardPlan(ids=tuple(range(count)), count=count)
    if not ids:
        raise ValueError("no shard ids given")
    outside = [i for i in ids if not 0 <= i < count]
    if outside:
        raise ValueError(f"shard id {outside[0]} is out of range: with {count} shards the ids are 0 to {count - 1}")
    if len(set(ids)) != len(ids):
        raise ValueError("a shard id is given twice")
    return ShardPlan(ids=tuple(sorted(ids)), count=count)
