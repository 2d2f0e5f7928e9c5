"""The database refuses to change or delete a published release, whoever asks.

The service layer never tries; this is the second lock, for raw SQL, the admin, a shell or a
bug. PostgreSQL: a PL/pgSQL trigger refuses UPDATE and DELETE of a published row. SQLite: a
trigger with RAISE(ABORT) refuses UPDATE only, because Django flushes SQLite test databases
with DELETE (PostgreSQL's TRUNCATE fires no row triggers); deletion is refused there by the
PROTECT foreign key from the project and by the services, which never delete a release.
Both let a ``building`` row become ``published`` (that UPDATE sees the old status).
"""

from django.db import migrations

MESSAGE = "release is published and immutable"

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION releases_release_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION '{MESSAGE} (project %, version %)', OLD.project_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER releases_release_immutable
    BEFORE UPDATE OR DELETE ON releases_release
    FOR EACH ROW EXECUTE FUNCTION releases_release_immutable();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS releases_release_immutable ON releases_release;
DROP FUNCTION IF EXISTS releases_release_immutable();
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER releases_release_immutable_update
    BEFORE UPDATE ON releases_release FOR EACH ROW WHEN OLD.status = 'published'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS releases_release_immutable_update;",
]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
