"""Every secret column of the schema, known by construction rather than by a list kept by hand.

A column whose name ends in `_enc` holds a `storage.crypto` ciphertext bound to its table, column
and row: the row is named by its primary key. Rotation, the secrets tests and every store take the
columns and the binding from here, so a table added later is rotated without anyone remembering.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Column, MetaData, Table
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

ENCRYPTED_SUFFIX = "_enc"


@dataclass(frozen=True)
class SecretTable:
    table: Table
    key: Column[str]  # the row's name in each ciphertext's binding
    columns: tuple[Column[str], ...]

    @property
    def name(self) -> str:
        return self.table.name


def is_secret_column(name: str) -> bool:
    return name.endswith(ENCRYPTED_SUFFIX)


def secret_tables(metadata: MetaData = SQLModel.metadata) -> Iterator[SecretTable]:
    for table in metadata.sorted_tables:
        columns = tuple(column for column in table.columns if is_secret_column(column.name))
        if not columns:
            continue
        [key] = table.primary_key.columns  # a ciphertext names one row
        yield SecretTable(table, key, columns)


def secret_context(table: str, column: str, row_key: object) -> str:
    """The associated data sealed into a value of `table.column` in the row `row_key`."""
    return f"{table}.{column.removesuffix(ENCRYPTED_SUFFIX)}:{row_key}"
