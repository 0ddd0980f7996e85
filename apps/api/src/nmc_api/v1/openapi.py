"""Request bodies in the OpenAPI document as msgspec itself describes them.

Litestar's own rendering of a msgspec struct drops the constraints of list items (each alias's
length and pattern) and never says `additionalProperties: false`, though `forbid_unknown_fields`
refuses unknown fields. msgspec's JSON Schema says all of it, so a strict struct is shown that way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from litestar.exceptions import ImproperlyConfiguredException
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

__all__ = ["StrictBodySchemas"]

_SCHEMAS = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_PYTHON_END = r"\Z"


class StrictBodySchemas(OpenAPISchemaPlugin):
    """Structs that forbid unknown fields (the /v1 request bodies), from msgspec's schema."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        annotation = field_definition.annotation
        return (
            not field_definition.is_union
            and field_definition.is_subclass_of(msgspec.Struct)
            and annotation.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        struct = field_definition.annotation
        (top,), components = msgspec.json.schema_components([struct])
        # The registry's schema, so the body is a component the operation refers to.
        schema = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
        for name, value in vars(_schema_of(top, components)).items():
            setattr(schema, name, value)
        return schema


def _schema_of(
    document: dict[str, Any], components: dict[str, Any], seen: frozenset[str] = frozenset()
) -> Schema:
    """A JSON Schema as msgspec writes it, as Litestar's Schema; nested structs are inlined."""
    if "$ref" in document:
        name = document["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            raise ImproperlyConfiguredException(f"{name} refers to itself; not a request body")
        return _schema_of(components[name], components, seen | {name})
    aliases = Schema.field_aliases()
    fields: dict[str, Any] = {}
    for key, value in document.items():
        if key == "required" and not value:
            continue  # msgspec says `required: []` when nothing is; absent says the same
        if key == "properties":
            value = {name: _schema_of(member, components, seen) for name, member in value.items()}
        elif key in _SCHEMAS and isinstance(value, dict):
            value = _schema_of(value, components, seen)
        elif key in _SCHEMA_LISTS:
            value = [_schema_of(member, components, seen) for member in value]
        elif key == "type":
            value = OpenAPIType(value)
        elif key == "pattern" and value.endswith(_PYTHON_END):
            # Enforced with Python's `\Z` (see nmc_api.v1.fields); ECMA regexes say it as `$`.
            value = value.removesuffix(_PYTHON_END) + "$"
        fields[aliases.get(key, key)] = value
    return Schema(**fields)
