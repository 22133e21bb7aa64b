"""Message components and modals in the Discord double (pure functions on Discord's JSON).

* ``number_components``: Discord gives every component of a stored message/modal a numeric ``id``
  (depth first, skipping ids the sender chose); the double does the same, so what the bot reads back
  (and what ``View.from_message`` parses for a ``DynamicItem``) looks like Discord's.
* ``check_message_components`` / ``check_modal``: Discord's limits (custom_id <= 100 characters and
  unique in the message, <= 5 action rows of <= 5 buttons or one select, labels <= 80, select options
  1-25, modal title <= 45 ...).  A violation becomes Discord's 400 "Invalid Form Body" (code 50035,
  ``errors`` nested by JSON path), so a too-long ``DynamicItem`` custom_id fails in tests, not live.
* ``find_component`` / ``check_click`` / ``check_choice``: what a user can click or choose.
* ``modal_submission``: ``data.components`` of a MODAL_SUBMIT in Discord's shape, mirroring the
  modal's layout: an action row ``{type 1, id, components: [{type 4, id, custom_id, value}]}`` for
  a text input sent in a row (discord.py's ``TextInput`` as a direct modal child), a label
  ``{type 18, id, component: {type 4 | 3 | 5-8, id, custom_id, value | values}}`` for one wrapped in
  ``ui.Label`` (discord.py 2.6+), ``{type 10, id}`` for a text display.  discord.py's
  ``Modal._refresh`` walks both shapes and matches the items by custom_id.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, TEXT_DISPLAY, LABEL = 1, 2, 3, 4, 10, 18
SELECTS = (3, 5, 6, 7, 8)
LINK_STYLE, PREMIUM_STYLE = 5, 6
FLAG_COMPONENTS_V2 = 1 << 15
INVALID_FORM_BODY = 50035


@dataclass(frozen=True)
class FormError:
    """One entry of Discord's ``errors`` tree: where (JSON path), Discord's error code, message."""

    path: tuple[str | int, ...]
    code: str
    message: str


def form_error_body(errors: Sequence[FormError]) -> dict[str, Any]:
    """Discord's 400 body: ``{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`` with
    each error under its path as ``{"_errors": [{"code", "message"}]}`` (what discord.py flattens)."""
    tree: dict[str, Any] = {}
    for err in errors:
        node = tree
        for key in err.path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return {"code": INVALID_FORM_BODY, "message": "Invalid Form Body", "errors": tree}


def walk(components: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component, depth first (rows' children, labels' component, sections' accessory)."""
    for comp in components:
        yield comp
        yield from walk(comp.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(comp.get(key), dict):
                yield from walk([comp[key]])


def number_components(components: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A deep copy with an ``id`` on every component, as Discord stores them."""
    out = copy.deepcopy(list(components or []))
    taken = {c["id"] for c in walk(out) if isinstance(c.get("id"), int)}
    next_id = 1
    for comp in walk(out):
        if not isinstance(comp.get("id"), int):
            while next_id in taken:
                next_id += 1
            comp["id"] = next_id
            taken.add(next_id)
    return out


def find_component(components: Sequence[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    return next((c for c in walk(components) if c.get("custom_id") == custom_id), None)


def custom_ids(components: Sequence[dict[str, Any]]) -> list[str]:
    return [c["custom_id"] for c in walk(components) if "custom_id" in c]


# ---------------------------------------------------------------------------------------------- checks
def _length(
    errors: list[FormError], path: tuple[str | int, ...], value: Any, maximum: int, *, required: bool = False
) -> None:
    if value is None or value == "":
        if required:
            errors.append(FormError(path, "BASE_TYPE_REQUIRED", "This field is required"))
        return
    if not isinstance(value, str):
        errors.append(FormError(path, "STRING_TYPE_CONVERT", "Could not interpret value as string."))
    elif len(value) > maximum:
        errors.append(FormError(path, "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {maximum} in length."))


def _range(errors: list[FormError], path: tuple[str | int, ...], value: Any, low: int, high: int) -> None:
    if value is not None and not (isinstance(value, int) and low <= value <= high):
        errors.append(FormError(path, "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}."))


def _check_button(errors: list[FormError], path: tuple[str | int, ...], c: dict[str, Any]) -> None:
    style = c.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errors.append(FormError((*path, "style"), "BASE_TYPE_CHOICES", f"Value must be one of (1..6), not {style}."))
    elif style == LINK_STYLE:
        _length(errors, (*path, "url"), c.get("url"), 512, required=True)
        if c.get("custom_id"):
            errors.append(
                FormError(
                    (*path, "custom_id"), "BUTTON_COMPONENT_URL_AND_CUSTOM_ID", "Link buttons cannot have a custom_id"
                )
            )
    elif style == PREMIUM_STYLE:
        _length(errors, (*path, "sku_id"), c.get("sku_id"), 20, required=True)
    else:
        _length(errors, (*path, "custom_id"), c.get("custom_id"), 100, required=True)
    _length(errors, (*path, "label"), c.get("label"), 80)


def _check_select(errors: list[FormError], path: tuple[str | int, ...], c: dict[str, Any]) -> None:
    _length(errors, (*path, "custom_id"), c.get("custom_id"), 100, required=True)
    _length(errors, (*path, "placeholder"), c.get("placeholder"), 150)
    _range(errors, (*path, "min_values"), c.get("min_values"), 0, 25)
    _range(errors, (*path, "max_values"), c.get("max_values"), 1, 25)
    if c["type"] != STRING_SELECT:
        return
    options = c.get("options") or []
    if not 1 <= len(options) <= 25:
        errors.append(FormError((*path, "options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length."))
    seen: set[str] = set()
    for i, opt in enumerate(options):
        for key in ("label", "value"):
            _length(errors, (*path, "options", i, key), opt.get(key), 100, required=True)
        _length(errors, (*path, "options", i, "description"), opt.get("description"), 100)
        if opt.get("value") in seen:
            errors.append(
                FormError(
                    (*path, "options", i, "value"),
                    "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    "Select options values must be unique",
                )
            )
        seen.add(opt.get("value"))
    if int(c.get("max_values", 1)) > len(options) >= 1:
        errors.append(
            FormError(
                (*path, "max_values"),
                "SELECT_COMPONENT_MAX_VALUES_EXCEEDS_OPTIONS",
                "max_values must be less than or equal to the number of options",
            )
        )


def _check_row(errors: list[FormError], path: tuple[str | int, ...], row: dict[str, Any]) -> None:
    children = row.get("components") or []
    if not 1 <= len(children) <= 5:
        errors.append(FormError((*path, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."))
    if any(ch.get("type") in SELECTS for ch in children) and len(children) > 1:
        errors.append(
            FormError(
                (*path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        )


def _check_tree(errors: list[FormError], path: tuple[str | int, ...], comps: Sequence[dict[str, Any]]) -> None:
    for i, c in enumerate(comps):
        here = (*path, i)
        ctype = c.get("type")
        if ctype == ACTION_ROW:
            _check_row(errors, here, c)
        elif ctype == BUTTON:
            _check_button(errors, here, c)
        elif ctype in SELECTS:
            _check_select(errors, here, c)
        if c.get("components"):
            _check_tree(errors, (*here, "components"), c["components"])
        if isinstance(c.get("accessory"), dict):
            _check_tree(errors, (*here, "accessory"), [c["accessory"]])


def _check_unique_ids(errors: list[FormError], comps: Sequence[dict[str, Any]]) -> None:
    ids = custom_ids(comps)
    for cid in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(
            FormError(
                ("components",), "COMPONENT_CUSTOM_ID_DUPLICATED", f"Component custom id cannot be duplicated ({cid})"
            )
        )


def check_message_components(components: Any, flags: int = 0) -> list[FormError]:
    """Discord's checks on a message's ``components`` (classic action rows; with the components-v2
    flag only the per-component checks apply)."""
    if components is None:
        return []
    if not isinstance(components, list):
        return [FormError(("components",), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")]
    errors: list[FormError] = []
    if not flags & FLAG_COMPONENTS_V2:
        if len(components) > 5:
            errors.append(FormError(("components",), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
        for i, c in enumerate(components):
            if c.get("type") != ACTION_ROW:
                errors.append(
                    FormError(
                        ("components", i, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'
                    )
                )
    _check_tree(errors, ("components",), components)
    _check_unique_ids(errors, components)
    return errors


def _check_text_input(errors: list[FormError], path: tuple[str | int, ...], c: dict[str, Any], in_row: bool) -> None:
    _length(errors, (*path, "custom_id"), c.get("custom_id"), 100, required=True)
    if c.get("style") not in (1, 2):
        errors.append(FormError((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2)."))
    _length(errors, (*path, "label"), c.get("label"), 45, required=in_row)
    _length(errors, (*path, "placeholder"), c.get("placeholder"), 100)
    _length(errors, (*path, "value"), c.get("value"), 4000)
    _range(errors, (*path, "min_length"), c.get("min_length"), 0, 4000)
    _range(errors, (*path, "max_length"), c.get("max_length"), 1, 4000)


def check_modal(data: dict[str, Any]) -> list[FormError]:
    """Discord's checks on a MODAL (type 9) callback's ``data``."""
    errors: list[FormError] = []
    _length(errors, ("data", "custom_id"), data.get("custom_id"), 100, required=True)
    _length(errors, ("data", "title"), data.get("title"), 45, required=True)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= 5:
        errors.append(FormError(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."))
    for i, c in enumerate(comps):
        path: tuple[str | int, ...] = ("data", "components", i)
        if c.get("type") == ACTION_ROW:
            children = c.get("components") or []
            if len(children) != 1 or children[0].get("type") != TEXT_INPUT:
                errors.append(
                    FormError(
                        (*path, "components"),
                        "MODAL_ROW_TEXT_INPUT",
                        "An action row in a modal holds exactly one text input",
                    )
                )
            else:
                _check_text_input(errors, (*path, "components", 0), children[0], in_row=True)
        elif c.get("type") == LABEL:
            _length(errors, (*path, "label"), c.get("label"), 45, required=True)
            _length(errors, (*path, "description"), c.get("description"), 100)
            inner = c.get("component") or {}
            if inner.get("type") == TEXT_INPUT:
                _check_text_input(errors, (*path, "component"), inner, in_row=False)
            elif inner.get("type") in SELECTS:
                _check_select(errors, (*path, "component"), inner)
        elif c.get("type") != TEXT_DISPLAY:
            errors.append(
                FormError((*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1, 10, 18).')
            )
    _check_unique_ids(errors, comps)
    return errors


# ---------------------------------------------------------------------------------------------- user side
def check_click(component: dict[str, Any]) -> None:
    """Raise ValueError unless a user could click this (an enabled, non-link, non-premium button)."""
    if component.get("type") != BUTTON:
        raise ValueError(f"component {component.get('custom_id')!r} is type {component.get('type')}, not a button")
    if component.get("style") in (LINK_STYLE, PREMIUM_STYLE):
        raise ValueError("link and premium buttons send no interaction")
    if component.get("disabled"):
        raise ValueError(f"button {component['custom_id']!r} is disabled")


def check_choice(component: dict[str, Any], values: Sequence[str], *, in_modal: bool = False) -> None:
    """Raise ValueError unless a user could pick ``values`` in this select (Discord's client enforces
    min/max_values and the option list)."""
    if component.get("type") not in SELECTS:
        raise ValueError(f"component {component.get('custom_id')!r} is type {component.get('type')}, not a select")
    if component.get("disabled"):
        raise ValueError(f"select {component['custom_id']!r} is disabled")
    low, high = int(component.get("min_values", 1)), int(component.get("max_values", 1))
    if in_modal and not component.get("required", True):
        low = 0
    if not low <= len(values) <= high:
        raise ValueError(f"select {component['custom_id']!r} takes {low}..{high} values, got {len(values)}")
    if component["type"] == STRING_SELECT:
        allowed = [o["value"] for o in component.get("options") or []]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValueError(f"select {component['custom_id']!r} has no option(s) {unknown}; options: {allowed}")


def _submitted(c: dict[str, Any], values: Mapping[str, str | Sequence[str]]) -> dict[str, Any]:
    cid = c["custom_id"]
    if c["type"] == TEXT_INPUT:
        value = values.get(cid, c.get("value") or "")  # an untouched input submits its prefilled value
        if not isinstance(value, str):
            raise ValueError(f"text input {cid!r} takes a str, got {value!r}")
        if not value and c.get("required", True):
            raise ValueError(f"text input {cid!r} is required")
        low, high = int(c.get("min_length", 0)), int(c.get("max_length", 4000))
        if value and not low <= len(value) <= high:
            raise ValueError(f"text input {cid!r} takes {low}..{high} characters, got {len(value)}")
        return {"type": TEXT_INPUT, "id": c["id"], "custom_id": cid, "value": value}
    if c["type"] in SELECTS:
        chosen = values.get(cid, [])
        if isinstance(chosen, str):
            raise ValueError(f"select {cid!r} takes a list of values, got {chosen!r}")
        check_choice(c, chosen, in_modal=True)
        return {"type": c["type"], "id": c["id"], "custom_id": cid, "values": list(chosen)}
    raise ValueError(f"modal component type {c['type']} is not supported by the double")


def modal_submission(
    components: Sequence[dict[str, Any]], values: Mapping[str, str | Sequence[str]]
) -> list[dict[str, Any]]:
    """``data.components`` of the MODAL_SUBMIT for a recorded modal, filled with ``values``
    (custom_id -> text, or list of values for a select).  Raises ValueError for what Discord's client
    would not let a user submit (missing required input, wrong length, unknown custom_id)."""
    unknown = set(values) - set(custom_ids(components))
    if unknown:
        raise ValueError(f"the modal has no input(s) {sorted(unknown)}; it has {custom_ids(components)}")
    out: list[dict[str, Any]] = []
    for c in components:
        if c["type"] == ACTION_ROW:
            out.append(
                {"type": ACTION_ROW, "id": c["id"], "components": [_submitted(x, values) for x in c["components"]]}
            )
        elif c["type"] == LABEL:
            out.append({"type": LABEL, "id": c["id"], "component": _submitted(c["component"], values)})
        elif c["type"] == TEXT_DISPLAY:
            out.append({"type": TEXT_DISPLAY, "id": c["id"]})
    return out
