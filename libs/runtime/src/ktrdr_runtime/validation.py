"""Checks every request gets before its handler runs: no enum field holds an undefined number.

Proto3 enums are open: a JSON ``"mode": 99`` or a gRPC client built from a newer contract
reaches the service as the number 99, which the service would silently treat as a default.
"""

from __future__ import annotations

import functools

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from ktrdr_core.errors import ValidationError
from ktrdr_runtime import codes


@functools.cache
def _holds_enums(descriptor: Descriptor) -> bool:
    """Whether a message of this type can contain an enum field (at any depth)."""
    return _scan(descriptor, frozenset())


def _scan(descriptor: Descriptor, seen: frozenset[str]) -> bool:
    if descriptor.full_name in seen:
        return False
    seen = seen | {descriptor.full_name}
    for field in descriptor.fields:
        if field.enum_type is not None:
            return True
        if field.message_type is not None and _scan(field.message_type, seen):
            return True
    return False


def _check_value(field: FieldDescriptor, value: object, path: str) -> None:
    if field.enum_type is not None:
        if isinstance(value, int) and value not in field.enum_type.values_by_number:
            names = ", ".join(v.name for v in field.enum_type.values if v.number != 0)
            raise ValidationError(
                codes.UNKNOWN_ENUM_VALUE,
                f"'{path}' is {value}, which {field.enum_type.name} does not define; "
                f"use one of {names}.",
                field=path,
            )
    elif isinstance(value, Message):
        check_enums(value, prefix=f"{path}.")


def check_enums(message: Message, *, prefix: str = "") -> None:
    """Raise INVALID_ARGUMENT ``RUNTIME-006`` naming the first enum field with an undefined value.

    Raises
    ------
    ValidationError
        Naming the field path (proto names, ``[i]`` for list items, ``[key]`` for map values).
    """
    if not _holds_enums(message.DESCRIPTOR):
        return
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for key, item in value.items():
                _check_value(value_field, item, f"{path}[{key}]")
        elif field.is_repeated:
            for i, item in enumerate(value):
                _check_value(field, item, f"{path}[{i}]")
        else:
            _check_value(field, value, path)
