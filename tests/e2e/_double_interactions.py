"""Interactions the Discord double sends (the test side of a user using the bot).  See
``discord_double.py`` for the overview.

Every INTERACTION_CREATE carries what discord.py reads: ``id``, ``application_id``, ``type``,
``token``, ``version``, ``data``, ``guild_id`` + partial ``guild``, ``channel_id`` + ``channel`` (with
``permissions``), ``member`` (with ``permissions``), locales, ``app_permissions`` (the bot's computed
permissions in the channel), ``entitlements``, ``authorizing_integration_owners``, ``context`` and
``attachment_size_limit``; component and modal interactions also ``message`` (the message as stored
now, without ``member``, like Discord).  ``data`` per type:

* 2 APPLICATION_COMMAND / 4 AUTOCOMPLETE: ``id``, ``name``, ``type`` 1, ``options``, ``resolved``.
* 3 MESSAGE_COMPONENT: ``custom_id``, ``component_type``, and for selects ``values`` (+ ``resolved``
  for user/role/mentionable/channel selects).  discord.py's ``state.parse_interaction_create`` reads
  exactly ``custom_id`` + ``component_type`` to find a View item (by message id, then views added
  without one, e.g. ``bot.add_view``) and runs every ``DynamicItem`` whose template fullmatches the
  custom_id, rebuilding the item from ``message.components`` (``View.from_message``).
* 5 MODAL_SUBMIT: ``custom_id`` and ``components`` (see ``_double_components.modal_submission``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._double_components import check_choice, check_click, custom_ids, find_component, modal_submission, walk
from ._double_permissions import DEFAULT_MEMBER_PERMISSIONS
from ._double_rest import InteractionRecord

if TYPE_CHECKING:
    from ._double_gateway import _Session

_OPTION_TYPES = {
    "subcommand": 1,
    "group": 2,
    "string": 3,
    "integer": 4,
    "boolean": 5,
    "user": 6,
    "channel": 7,
    "role": 8,
    "mentionable": 9,
    "number": 10,
    "attachment": 11,
}
# select component type -> what its values are ids of (7 mentionable: a user id or a role id)
_SELECT_KINDS = {5: "user", 6: "role", 7: "mentionable", 8: "channel"}


class InteractionsMixin:
    """Interaction side of :class:`DiscordDouble` (mixed in; uses its state)."""

    if TYPE_CHECKING:  # provided by DiscordDouble / RestMixin / GatewayMixin
        application_id: str
        guild_id: str
        channel_id: str
        users: dict[str, dict[str, Any]]
        guilds: dict[str, dict[str, Any]]
        channels: dict[str, dict[str, Any]]
        attachments: dict[str, dict[str, Any]]
        interactions: dict[str, InteractionRecord]

        def next_id(self) -> str: ...
        def clock(self) -> float: ...
        def find_command(self, name: str, guild_id: str | int | None = ...) -> dict[str, Any] | None: ...
        def find_message(self, message_id: str | int) -> dict[str, Any] | None: ...
        def permissions_in(self, channel_id: str | int, user: dict[str, Any] | str | int | None = ...) -> int: ...
        def _member_of(self, guild_id: str, user_id: str) -> dict[str, Any] | None: ...
        def add_member(self, guild_id: str, user: dict[str, Any], roles: list[str] | None = ...) -> dict[str, Any]: ...
        def _resolve_user(self, user: dict[str, Any] | str | int | None) -> dict[str, Any]: ...
        async def _dispatch(
            self, event: str, data: dict[str, Any], *, session: _Session | None = ...
        ) -> dict[str, Any]: ...

    # ------------------------------------------------------------------ resolved data
    def _resolve_into(self, resolved: dict[str, Any], kind: str, value: Any, guild_id: str) -> str:
        """Put the user/member, role, channel or attachment ``value`` (object or id) into ``resolved``
        the way Discord does; returns its id."""
        if kind == "mentionable":
            is_user = (isinstance(value, dict) and "username" in value) or str(value) in self.users
            kind = "user" if is_user else "role"
        if kind == "attachment":
            att = value if isinstance(value, dict) else self.attachments[str(value)]
            resolved.setdefault("attachments", {})[att["id"]] = att
            return str(att["id"])
        if kind == "user":
            user = self._resolve_user(value)
            resolved.setdefault("users", {})[user["id"]] = user
            member = self._member_of(guild_id, user["id"])
            if member is not None:
                partial = {k: v for k, v in member.items() if k != "user"}
                perms = str(DEFAULT_MEMBER_PERMISSIONS)
                resolved.setdefault("members", {})[user["id"]] = {**partial, "permissions": perms}
            return str(user["id"])
        if kind == "channel":
            ch = self.channels[str(value["id"] if isinstance(value, dict) else value)]
            resolved.setdefault("channels", {})[ch["id"]] = {
                **{k: ch.get(k) for k in ("id", "name", "type", "parent_id", "flags")},
                "guild_id": guild_id,
                "permissions": str(DEFAULT_MEMBER_PERMISSIONS),
            }
            if "thread_metadata" in ch:
                resolved["channels"][ch["id"]]["thread_metadata"] = ch["thread_metadata"]
            return str(ch["id"])
        rid = str(value["id"] if isinstance(value, dict) else value)
        role = next(r for r in self.guilds[guild_id]["roles"] if r["id"] == rid)
        resolved.setdefault("roles", {})[rid] = role
        return rid

    def _build_options(
        self,
        defs: list[dict[str, Any]] | None,
        options: dict[str, Any] | list[dict[str, Any]] | None,
        resolved: dict[str, Any],
        guild_id: str,
        focused: str | None,
    ) -> list[dict[str, Any]]:
        if options is None:
            return []
        if isinstance(options, list):  # raw option objects, passed through
            return options
        by_name = {d["name"]: d for d in defs or []}
        kinds = {11: "attachment", 6: "user", 7: "channel", 8: "role", 9: "mentionable"}
        out = []
        for name, value in options.items():
            otype = by_name[name]["type"] if name in by_name else _infer_type(value)
            if otype in kinds:
                value = self._resolve_into(resolved, kinds[otype], value, guild_id)
            opt = {"name": name, "type": otype, "value": value}
            if focused == name:
                opt["focused"] = True
            out.append(opt)
        return out

    def _command_data(self, guild_id: str, command_name: str, options: Any, focused: str | None) -> dict[str, Any]:
        parts = command_name.split()
        cmd = self.find_command(parts[0], guild_id) if parts else None
        if cmd is None:
            raise LookupError(f"command {command_name!r} was never synced to the double (guild {guild_id} or global)")
        chain, defs = [], cmd.get("options")
        for part in parts[1:]:
            sub = next(o for o in defs or [] if o["name"] == part and o["type"] in (1, 2))
            chain.append(sub)
            defs = sub.get("options")
        resolved: dict[str, Any] = {}
        opts = self._build_options(defs, options, resolved, guild_id, focused)
        for sub in reversed(chain):
            opts = [{"name": sub["name"], "type": sub["type"], "options": opts}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if opts:
            data["options"] = opts
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    # ------------------------------------------------------------------ the INTERACTION_CREATE
    async def _send_interaction_payload(
        self,
        itype: int,
        data: dict[str, Any],
        gid: str,
        cid: str,
        user: Any,
        *,
        permissions: int,
        app_permissions: int | None = None,
        locale: str = "en-US",
        guild_locale: str = "en-US",
        message: dict[str, Any] | None = None,
        parent_id: str | None = None,
    ) -> str:
        u = self._resolve_user(user)
        member = self._member_of(gid, u["id"]) or self.add_member(gid, u)
        iid = self.next_id()
        if app_permissions is None:
            app_permissions = self.permissions_in(cid)
        channel = {k: v for k, v in self.channels[cid].items() if k != "permission_overwrites"}
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": self.application_id,
            "type": itype,
            "token": f"itoken-{iid}",
            "version": 1,
            "data": data,
            "guild_id": gid,
            "guild": {"id": gid, "locale": guild_locale, "features": []},
            "channel_id": cid,
            "channel": {**channel, "permissions": str(permissions)},
            "member": {**member, "permissions": str(permissions)},
            "locale": locale,
            "guild_locale": guild_locale,
            "app_permissions": str(app_permissions),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": gid},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        self.interactions[iid] = InteractionRecord(
            id=iid, token=payload["token"], payload=payload, created_at=self.clock(), parent_id=parent_id
        )
        await self._dispatch("INTERACTION_CREATE", payload)
        return iid

    # ------------------------------------------------------------------ test API
    async def send_interaction(
        self,
        guild_id: str | int | None = None,
        channel_id: str | int | None = None,
        user: dict[str, Any] | str | int | None = None,
        command_name: str = "",
        options: dict[str, Any] | list[dict[str, Any]] | None = None,
        *,
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        app_permissions: int | None = None,
        locale: str = "en-US",
        guild_locale: str = "en-US",
    ) -> str:
        """Dispatch an APPLICATION_COMMAND INTERACTION_CREATE for a synced slash command; returns its id.

        ``None`` ids/user mean the default guild/channel/user.  ``command_name`` may name a subcommand
        ("news add").  ``options`` maps option name -> value (types come from the synced definition;
        attachment values are dicts from ``add_attachment``, user values user dicts or ids, and they are
        put in ``data.resolved``), or is a raw list of option objects.  ``permissions`` is the invoking
        member's permission integer.  Outcome: ``double.interactions[id]``."""
        gid, cid = str(guild_id or self.guild_id), str(channel_id or self.channel_id)
        data = self._command_data(gid, command_name, options, None)
        return await self._send_interaction_payload(
            2,
            data,
            gid,
            cid,
            user,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
            guild_locale=guild_locale,
        )

    async def send_autocomplete(
        self,
        guild_id: str | int | None = None,
        channel_id: str | int | None = None,
        user: dict[str, Any] | str | int | None = None,
        command_name: str = "",
        options: dict[str, Any] | None = None,
        focused: str = "",
        *,
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        locale: str = "en-US",
    ) -> str:
        """Dispatch an APPLICATION_COMMAND_AUTOCOMPLETE (type 4) interaction with ``focused`` marked; the
        bot's choices end up in ``double.interactions[id].callbacks[0]["data"]["choices"]``."""
        gid, cid = str(guild_id or self.guild_id), str(channel_id or self.channel_id)
        data = self._command_data(gid, command_name, options, focused)
        return await self._send_interaction_payload(4, data, gid, cid, user, permissions=permissions, locale=locale)

    def _message(self, message: dict[str, Any] | str | int) -> dict[str, Any]:
        mid = message["id"] if isinstance(message, dict) else message
        found = self.find_message(mid)
        if found is None:
            raise LookupError(f"no message {mid} in the double")
        return found

    async def send_component(
        self,
        message: dict[str, Any] | str | int,
        custom_id: str,
        user: dict[str, Any] | str | int | None = None,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        locale: str = "en-US",
    ) -> str:
        """Dispatch a raw MESSAGE_COMPONENT (type 3) interaction on a stored message (dict or id),
        without checking that the message has such a component (use ``click`` / ``choose`` for that)."""
        msg = self._message(message)
        cid = msg["channel_id"]
        gid = self.channels[cid]["guild_id"]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
            if component_type in _SELECT_KINDS:
                resolved: dict[str, Any] = {}
                for v in values:
                    self._resolve_into(resolved, _SELECT_KINDS[component_type], v, gid)
                data["resolved"] = resolved
        return await self._send_interaction_payload(
            3, data, gid, cid, user, permissions=permissions, locale=locale, message=msg
        )

    def _component(self, msg: dict[str, Any], custom_id: str) -> dict[str, Any]:
        comp = find_component(msg.get("components") or [], custom_id)
        if comp is None:
            raise LookupError(
                f"message {msg['id']} has no component {custom_id!r}; it has {custom_ids(msg['components'])}"
            )
        return comp

    async def click(
        self,
        message: dict[str, Any] | str | int,
        custom_id: str,
        user: dict[str, Any] | str | int | None = None,
        *,
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
    ) -> str:
        """A user (default ``double.user``) clicks the button ``custom_id`` on a message the double holds
        (dict or id; ephemeral ones included).  LookupError if the message (as stored now) has no such
        component, ValueError if it is not a clickable button (disabled, link).  Returns the id of the
        MESSAGE_COMPONENT interaction; ``double.interactions[id]`` records the response."""
        msg = self._message(message)
        check_click(self._component(msg, custom_id))
        return await self.send_component(msg, custom_id, user, permissions=permissions)

    async def choose(
        self,
        message: dict[str, Any] | str | int,
        custom_id: str,
        values: Sequence[str],
        user: dict[str, Any] | str | int | None = None,
        *,
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
    ) -> str:
        """A user picks ``values`` in the select ``custom_id`` (string select: option values; user /
        role / channel selects: ids, resolved into ``data.resolved``).  Checks the values against the
        select's options and min/max_values (ValueError).  Returns the interaction id."""
        msg = self._message(message)
        comp = self._component(msg, custom_id)
        check_choice(comp, values)
        return await self.send_component(
            msg, custom_id, user, component_type=comp["type"], values=list(values), permissions=permissions
        )

    async def submit_modal(
        self,
        interaction: str | InteractionRecord,
        values: Mapping[str, str | Sequence[str]] | None = None,
        user: dict[str, Any] | str | int | None = None,
        *,
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
    ) -> str:
        """Submit the modal the bot answered ``interaction`` (id or record) with: ``values`` maps the
        inputs' custom_ids to text (selects: lists); inputs left out keep their prefilled value.  The
        MODAL_SUBMIT goes to the same channel, by the same user unless ``user`` is given, with the
        ``message`` the opening component was on.  ValueError for what Discord's client would refuse
        (missing required input, too long/short, unknown custom_id).  Returns the new interaction id
        (its record's ``parent_id`` is the opening interaction)."""
        parent = self.interactions[interaction] if isinstance(interaction, str) else interaction
        if parent.modal is None:
            raise LookupError(f"interaction {parent.id} was not answered with a modal")
        components = modal_submission(parent.modal["components"], dict(values or {}))
        p = parent.payload
        data: dict[str, Any] = {"custom_id": parent.modal["custom_id"], "components": components}
        resolved: dict[str, Any] = {}
        for comp in walk(components):
            if comp.get("type") in _SELECT_KINDS:
                for v in comp["values"]:
                    self._resolve_into(resolved, _SELECT_KINDS[comp["type"]], v, p["guild_id"])
        if resolved:
            data["resolved"] = resolved
        message = self.find_message(p["message"]["id"]) or p["message"] if p.get("message") else None
        return await self._send_interaction_payload(
            5,
            data,
            p["guild_id"],
            p["channel_id"],
            user if user is not None else p["member"]["user"],
            permissions=permissions,
            message=message,
            parent_id=parent.id,
        )


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return _OPTION_TYPES["boolean"]
    if isinstance(value, int):
        return _OPTION_TYPES["integer"]
    if isinstance(value, float):
        return _OPTION_TYPES["number"]
    if isinstance(value, dict) and "filename" in value:
        return _OPTION_TYPES["attachment"]
    if isinstance(value, dict) and "username" in value:
        return _OPTION_TYPES["user"]
    return _OPTION_TYPES["string"]
