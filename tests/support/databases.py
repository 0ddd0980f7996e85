"""Throwaway PostgreSQL databases for the test session (real PostgreSQL, never a fake)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from nmc_adapters.postgres import EmbeddedPostgres, libpq_url


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return libpq_url(
        make_url(libpq_url(url)).set(database=name).render_as_string(hide_password=False)
    )


@contextmanager
def postgres_server() -> Iterator[str]:
    """NMC_TEST_DATABASE_URL when set, else a throwaway cluster from the local binaries."""
    given = os.environ.get("NMC_TEST_DATABASE_URL")
    if given:
        yield libpq_url(given)
        return
    cluster = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="nmc-test-pg-")), fast_unsafe=True)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.destroy()


def create_database(admin_url: str, *, template: str | None = None, prefix: str = "nmc_t") -> str:
    """A new, uniquely named database; returns its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
    return name


def drop_database(admin_url: str, name: str) -> None:
    """Drop it even when a test left connections open."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
