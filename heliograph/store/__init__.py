"""Persistence. `db` holds the two drivers (SQLite, PostgreSQL) behind one small interface;
the other modules are the queries, written once in SQL both engines accept."""
