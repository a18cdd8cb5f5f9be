from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION dossiers_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'dossier timeline entries cannot be changed or deleted (append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dossiers_timeline_append_only
    BEFORE UPDATE OR DELETE ON dossiers_dossierevent
    FOR EACH ROW EXECUTE FUNCTION dossiers_timeline_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS dossiers_timeline_append_only ON dossiers_dossierevent;
DROP FUNCTION IF EXISTS dossiers_timeline_append_only();
"""


class Migration(migrations.Migration):
    """The timeline (phiếu kiểm soát quá trình) is append-only in the database itself, not only in code."""

    dependencies = [("dossiers", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
