from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION broadcasts_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'broadcast audit entries cannot be changed or deleted (append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER broadcasts_auditentry_append_only
    BEFORE UPDATE OR DELETE ON broadcasts_auditentry
    FOR EACH ROW EXECUTE FUNCTION broadcasts_audit_append_only();
CREATE TRIGGER broadcasts_settingsauditentry_append_only
    BEFORE UPDATE OR DELETE ON broadcasts_settingsauditentry
    FOR EACH ROW EXECUTE FUNCTION broadcasts_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS broadcasts_auditentry_append_only ON broadcasts_auditentry;
DROP TRIGGER IF EXISTS broadcasts_settingsauditentry_append_only ON broadcasts_settingsauditentry;
DROP FUNCTION IF EXISTS broadcasts_audit_append_only();
"""


class Migration(migrations.Migration):
    """The audit (who edited, submitted, approved) decides who may approve: the database keeps it append-only."""

    dependencies = [("broadcasts", "0003_two_person_rule")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
