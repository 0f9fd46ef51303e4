import asyncpg

from devstack.infra.postgres import asyncpg_dsn, create_database, drop_database, with_database


async def test_database_url_is_a_fresh_database_that_accepts_tables_and_rows(
    database_url: str,
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        tables_before = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        await conn.execute("CREATE TABLE tenants (id serial PRIMARY KEY, name text NOT NULL)")
        await conn.execute("INSERT INTO tenants (name) VALUES ($1), ($2)", "Acme", "Globex")
        names = await conn.fetch("SELECT name FROM tenants ORDER BY id")
    finally:
        await conn.close()

    assert tables_before == 0
    assert [row["name"] for row in names] == ["Acme", "Globex"]


async def test_a_created_database_is_listed_until_it_is_dropped(postgres_server_url: str) -> None:
    url = await create_database(postgres_server_url)
    name = url.rsplit("/", 1)[1]
    listed_after_create = await _database_exists(postgres_server_url, name)

    await drop_database(postgres_server_url, name)

    assert listed_after_create
    assert not await _database_exists(postgres_server_url, name)


async def _database_exists(admin_url: str, name: str) -> bool:
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return (
            await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 1
        )
    finally:
        await admin.close()


def test_sqlalchemy_urls_become_asyncpg_dsns_and_keep_their_query() -> None:
    url = "postgresql+asyncpg://u:p@db:5432/admin?ssl=disable"

    assert asyncpg_dsn(url) == "postgresql://u:p@db:5432/admin?ssl=disable"
    assert with_database(url, "t1") == "postgresql+asyncpg://u:p@db:5432/t1?ssl=disable"
