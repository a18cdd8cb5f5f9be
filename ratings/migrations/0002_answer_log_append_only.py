from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION ratings_answer_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rating answer log entries cannot be changed or deleted (append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ratings_answer_log_append_only
    BEFORE UPDATE OR DELETE ON ratings_ratinganswerlog
    FOR EACH ROW EXECUTE FUNCTION ratings_answer_log_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS ratings_answer_log_append_only ON ratings_ratinganswerlog;
DROP FUNCTION IF EXISTS ratings_answer_log_append_only();
"""


class Migration(migrations.Migration):
    """Who answered a rating, and what, is append-only in the database itself."""

    dependencies = [("ratings", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
