"""Rows <-> domain values with cattrs: one converter, and per table only what differs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from nmc_domain.tenancy.template import AfterHoursTemplate, TextBackTemplate

__all__ = ["CONVERTER", "RowMapper"]

T = TypeVar("T")
Row = dict[str, Any]


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    # psycopg reads and writes these natively: pass them through untouched.
    for native in (UUID, datetime, date):
        converter.register_unstructure_hook(native, lambda value: value)
        converter.register_structure_hook(native, lambda value, _: value)
    for template in (TextBackTemplate, AfterHoursTemplate):
        converter.register_unstructure_hook(template, lambda value: value.text)
        converter.register_structure_hook(template, lambda text, cls: cls(text))
    # Arrays come back as lists; the domain keeps tuples and frozensets (frozen values).
    converter.register_unstructure_hook_func(
        lambda cls: (
            cls in (tuple, frozenset) or getattr(cls, "__origin__", None) in (tuple, frozenset)
        ),
        list,
    )
    return converter


CONVERTER = _converter()


class RowMapper(Generic[T]):
    """Maps one attrs class to its table's row: field names are column names unless renamed.

    A context with types of its own registers their hooks on CONVERTER before its mappers.

    `extra` adds columns derived from the value (a sort key, say); columns a row has beyond the
    fields (created_at, …) are ignored when reading.
    """

    def __init__(
        self,
        cls: type[T],
        *,
        rename: Mapping[str, str] | None = None,
        extra: Mapping[str, Callable[[T], Any]] | None = None,
    ) -> None:
        renames = dict(rename or {})
        overrides = {field: override(rename=column) for field, column in renames.items()}
        self._to = make_dict_unstructure_fn(cls, CONVERTER, **overrides)  # type: ignore[arg-type]
        self._from = make_dict_structure_fn(cls, CONVERTER, **overrides)  # type: ignore[arg-type]
        self._extra = dict(extra or {})
        fields = [renames.get(field.name, field.name) for field in attrs.fields(cls)]  # type: ignore[arg-type]
        # The columns `row` fills, in field order (inserts bind exactly these).
        self.columns: tuple[str, ...] = (*fields, *self._extra)
        self._cls = cls

    def row(self, value: T) -> Row:
        """The columns of `value`, extra ones included."""
        row: Row = self._to(value)
        for column, derive in self._extra.items():
            row[column] = derive(value)
        return row

    def value(self, row: Mapping[str, Any]) -> T:
        """The domain value a row holds."""
        found: T = self._from(row, self._cls)
        return found
