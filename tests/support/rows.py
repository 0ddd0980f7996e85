"""A valid row for any table, read off its metadata: what the row-level-security matrix writes.

Nothing here names a table: keys, foreign keys and CHECK constraints come from the metadata,
so a new table is covered the day it is declared. A column whose CHECK this cannot satisfy
(a regular expression) names an example in its `info` (`info={"example": "USD"}`); a table
it still cannot fill fails loudly here rather than being skipped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Integer,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from nmc_adapters.postgres.schema import metadata, tenant_tables

__all__ = ["ordered_tenant_tables", "sample_row", "sample_value"]

AT = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
_IN = re.compile(r"^\(?(?P<col>\w+) IN \((?P<values>[^)]*)\)\)?$")
_BETWEEN = re.compile(r"^\(?(?P<col>\w+) BETWEEN (?P<lo>-?\d+) AND (?P<hi>-?\d+)\)?$")
_GREATER = re.compile(r"^\(?(?P<col>\w+) > (?P<lo>-?\d+)\)?$")
_REGEX = re.compile(r"^\(?(?P<col>\w+) ~ .*$")


def _checks(table: Table) -> dict[str, str]:
    """Single-column CHECKs by column. Checks over several columns (times in order, a flag
    that follows a status) hold for rows whose columns follow the rules below."""
    found: dict[str, str] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            sql = str(constraint.sqltext).strip()
            for pattern in (_IN, _BETWEEN, _GREATER, _REGEX):
                if match := pattern.match(sql):
                    found[match["col"]] = sql
    return found


def sample_value(table: Table, column: Column[Any], row_id: UUID) -> Any:
    """A value `column` accepts, varying with `row_id` where the column lets it."""
    if "example" in column.info:
        return column.info["example"]
    seed = row_id.int
    check = _checks(table).get(column.name)
    if check is not None:
        if m := _IN.match(check):
            return m["values"].split(",")[0].strip().strip("'")
        if m := _BETWEEN.match(check):
            low, high = int(m["lo"]), int(m["hi"])
            return low + seed % (high - low + 1)
        if m := _GREATER.match(check):
            return int(m["lo"]) + 1 + seed % 1000
        raise AssertionError(
            f"{table.name}.{column.name}: cannot satisfy CHECK {check!r}; "
            'give the column info={"example": ...}'
        )
    kind = column.type
    if isinstance(kind, PgUUID):
        return uuid.uuid5(row_id, column.name)
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 1 + seed % 1000
    if isinstance(kind, Float):
        return 1.5 + seed % 1000
    if isinstance(kind, TIMESTAMP):
        # One day per row (so two rows' times never overlap), the row's own times in column
        # order (so start_at < end_at < blocked_until, as declared).
        position = list(table.c).index(column)
        return AT + timedelta(days=seed % 100_000, minutes=10 * position)
    if isinstance(kind, Date):
        return AT.date() + timedelta(days=seed % 100_000)
    if isinstance(kind, ARRAY):
        return []
    if isinstance(kind, JSONB):
        return {}
    if isinstance(kind, Text):
        return f"{column.name}-{row_id.hex[:16]}"
    raise AssertionError(f"{table.name}.{column.name}: no sample for type {kind!r}")


def sample_row(
    table: Table, tenant_id: UUID, row_id: UUID, parents: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A row of `table` for the tenant: keys set, foreign keys pointing at `parents` (a stored
    row per referred table), required columns filled; defaulted and nullable ones left out."""
    key = tenant_tables()[table.name]
    row: dict[str, Any] = {key: tenant_id}
    if "id" in table.c and key != "id":
        row["id"] = row_id
    for constraint in table.constraints:
        if isinstance(constraint, ForeignKeyConstraint):
            referred = constraint.referred_table.name
            if referred == "tenants":
                continue
            parent = parents[referred]
            for element in constraint.elements:
                row[element.parent.name] = parent[element.column.name]
    for column in table.c:
        generated = column.server_default is not None or column.computed is not None
        if column.name in row or generated or column.nullable:
            continue
        row[column.name] = sample_value(table, column, row_id)
    return row


def ordered_tenant_tables() -> list[str]:
    """The tenant tables, each after the tables its foreign keys refer to."""
    tenant = set(tenant_tables())
    return [table.name for table in metadata.sorted_tables if table.name in tenant]
