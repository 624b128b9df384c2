"""The database: rows, engine and sessions, locks, atomic files, copying between databases."""
