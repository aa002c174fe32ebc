"""Alembic environment: migrations run against the URL the caller configured (never a default)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from carnet.models import metadata

config = context.config
APP_ROLE = config.get_main_option("carnet.app_role") or ""


def grant_app_role(connection: Connection) -> None:
    """The role the application runs as: everything on its tables but changing or removing audit entries,
    and moving a chain's head otherwise than forward by appending.

    Re-applied after every migration, so a table a later migration adds is never forgotten.
    """
    if not APP_ROLE:
        return
    role = connection.dialect.identifier_preparer.quote(APP_ROLE)
    connection.execute(
        text(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    CREATE ROLE {role} NOLOGIN;
                END IF;
            END $$;
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
            REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role};
            DO $$ DECLARE appended text; BEGIN
                FOREACH appended IN ARRAY ARRAY['audit_entries', 'audit_seal_leaves', 'audit_seals'] LOOP
                    IF to_regclass(appended) IS NOT NULL THEN
                        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM {role}', appended);
                    END IF;
                END LOOP;
                -- A chain's head moves only forward, through audit_reserve and the entries appended.
                IF to_regprocedure('audit_reserve(uuid, integer, timestamptz)') IS NOT NULL THEN
                    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_heads FROM {role};
                    GRANT EXECUTE ON FUNCTION audit_reserve(uuid, integer, timestamptz) TO {role};
                    GRANT UPDATE (sealed_seq) ON audit_heads TO {role};  -- the sealer's bookmark
                END IF;
            END $$;
            """  # noqa: S608 - the role name comes from our own settings and is quoted
        )
    )


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not configured")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            grant_app_role(connection)
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("Carnet migrations run online only: `carnet migrate`")
run_migrations_online()
