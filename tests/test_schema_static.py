"""`s2s_cli/schema.py` (the tables as plain data, for the paths that never import SQLModel)
says exactly what `models.py` says: tables in dependency order, columns in declared order,
their kinds, Python-side defaults and primary keys.

Run `python -m tests.test_schema_static` to print the text schema.py should hold."""

from __future__ import annotations

from typing import Any


def from_models() -> tuple[dict[str, tuple[tuple[str, str, Any], ...]],
                           dict[str, tuple[str, ...]]]:
    from sqlalchemy import Boolean, Date, DateTime, Integer, TypeDecorator
    from sqlmodel import SQLModel

    from s2s_cli import models, schema

    classes = {c.__tablename__: c for c in SQLModel.__subclasses__()
               if hasattr(c, "__tablename__")}
    tables: dict[str, tuple[tuple[str, str, Any], ...]] = {}
    keys: dict[str, tuple[str, ...]] = {}
    for table in SQLModel.metadata.sorted_tables:
        fields = classes[table.name].model_fields
        cols = []
        for col in table.columns:
            t = col.type.impl if isinstance(col.type, TypeDecorator) else col.type
            kind = ("bool" if isinstance(t, Boolean) else "datetime" if isinstance(t, DateTime)
                    else "date" if isinstance(t, Date) else "int" if isinstance(t, Integer)
                    else "text")
            f = fields[col.name]
            if f.default_factory is not None:
                assert f.default_factory is models.utcnow, (table.name, col.name)
                default: Any = schema.NOW
            elif f.is_required():
                default = schema.REQUIRED
            else:
                default = f.default
            cols.append((col.name, kind, default))
        tables[table.name] = tuple(cols)
        keys[table.name] = tuple(c.name for c in table.primary_key.columns)
    return tables, keys


def test_static_schema_is_the_models() -> None:
    from s2s_cli import schema

    tables, keys = from_models()
    assert list(schema.TABLES) == list(tables)
    for name, cols in tables.items():
        assert schema.TABLES[name] == cols, name
    assert schema.PRIMARY_KEYS == keys


if __name__ == "__main__":
    tables, keys = from_models()
    print("TABLES: dict[str, tuple[tuple[str, str, Any], ...]] = {")
    for name, cols in tables.items():
        print(f"    {name!r}: (")
        for col in cols:
            print(f"        ({col[0]!r}, {col[1]!r}, {col[2]!r}),")
        print("    ),")
    print("}")
    print("PRIMARY_KEYS = {")
    for name, key in keys.items():
        print(f"    {name!r}: {key!r},")
    print("}")
