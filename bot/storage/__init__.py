"""Storage: the schema, the database connection, migrations and the conversation store."""
