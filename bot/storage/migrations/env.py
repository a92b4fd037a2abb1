"""Alembic environment: migrations run on the connection Neuvo hands over (see database.upgrade)."""

from alembic import context

from bot.storage.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `neuvo db upgrade`, which provides the connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
