from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION dossiers_access_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'personal-data access records cannot be changed or deleted (append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dossiers_access_audit_append_only
    BEFORE UPDATE OR DELETE ON dossiers_personaldataaccess
    FOR EACH ROW EXECUTE FUNCTION dossiers_access_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS dossiers_access_audit_append_only ON dossiers_personaldataaccess;
DROP FUNCTION IF EXISTS dossiers_access_audit_append_only();
"""


class Migration(migrations.Migration):
    """The audit of officers' access to personal data is append-only in the database itself, as the
    timeline is: not even a script with the portal's database account rewrites who looked at what."""

    dependencies = [("dossiers", "0006_personal_data_access")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
