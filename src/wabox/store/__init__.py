"""Persistence: SQLAlchemy Core tables, queries, the group-commit writer and migrations.

The same code runs on SQLite (the embedded default) and PostgreSQL (scale-out); nothing
outside this package imports SQLAlchemy.
"""
