from django.db import migrations

# An old dossier's point: the point its receiving officer belongs to, else the province's centre
# (the active point of kind province_centre, else the first reception department), else none.
BACKFILL_SQL = """
    WITH centre AS (
        SELECT id FROM offices_department
        WHERE is_reception
        ORDER BY (point_kind = 'province_centre') DESC, is_active DESC, code
        LIMIT 1
    )
    UPDATE dossiers_dossier AS d
    SET reception_point_id = COALESCE(
        (SELECT dep.id FROM offices_officer o JOIN offices_department dep ON dep.id = o.department_id
         WHERE o.id = d.received_by_id AND dep.is_reception),
        (SELECT id FROM centre)
    )
    WHERE d.reception_point_id IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0014_reception_points"),
        ("offices", "0004_reception_points"),
    ]

    operations = [migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop)]
