from sqlalchemy import Engine, inspect


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"paper", "embedding", "match", "summary", "digest", "digestitem", "feedday"} <= tables
