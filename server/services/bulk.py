"""Set-based writes of many rows: one statement per batch on PostgreSQL, executemany elsewhere.

On PostgreSQL each column travels as one array parameter and unnest() turns them back
into rows, so a batch of a thousand rows is one short statement, not a thousand.
"""
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from server.extensions import db


def dialect_name():
    """The name of the session's backend: "postgresql" or "sqlite"."""
    return db.session.get_bind().dialect.name


def on_postgresql():
    """True when the session talks to PostgreSQL."""
    return dialect_name() == "postgresql"


def dialect_insert(table, dialect=None):
    """The backend's own INSERT construct, the one that knows ON CONFLICT."""
    return (postgresql if (dialect or dialect_name()) == "postgresql" else sqlite).insert(table)


def _array(table, name, values):
    column_type = table.c[name].type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl
    return bindparam(f"a_{name}", values, type_=postgresql.ARRAY(column_type))


def _unnest(table, rows, names):
    arrays = [_array(table, name, [row[name] for row in rows]) for name in names]
    return func.unnest(*arrays).table_valued(*names).render_derived(name="u")


def id_in(column, ids):
    """column IN ids, as one array parameter on PostgreSQL."""
    if on_postgresql():
        return column == func.any(bindparam("ids", list(ids), type_=postgresql.ARRAY(column.type)))
    return column.in_(ids)


def insert_rows(table, rows, returning=None):
    """Insert rows (dicts with the same keys), skipping any that break a unique key.

    Returns the `returning` column of the rows inserted, when one is given.
    """
    if not rows:
        return []
    if on_postgresql():
        names = list(rows[0])
        source = _unnest(table, rows, names)
        statement = postgresql.insert(table).from_select(
            names, select(*[source.c[name] for name in names])
        )
        statement = statement.on_conflict_do_nothing()
        if returning is None:
            db.session.execute(statement)
            return []
        return db.session.scalars(statement.returning(returning)).all()
    statement = sqlite.insert(table).on_conflict_do_nothing()
    if returning is None:
        db.session.execute(statement, rows)
        return []
    return db.session.scalars(statement.returning(returning), rows).all()


def update_rows(table, rows, *where, **common):
    """Set each row's columns on the row with its "id"; `where` and `common` apply to all."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    if on_postgresql():
        source = _unnest(table, rows, ["id", *names])
        db.session.execute(
            update(table)
            .where(table.c.id == source.c.id, *where)
            .values({**{name: source.c[name] for name in names}, **common})
        )
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("v_id"), *where)
        .values({**{name: bindparam(f"v_{name}") for name in names}, **common})
    )
    db.session.execute(statement, [{f"v_{key}": value for key, value in row.items()} for row in rows])
