"""Figures for the dossiers, ratings and messages a province already has (reports/figures.py rebuild)."""

from django.db import migrations


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM dossiers_dossier)")
        if not cursor.fetchone()[0]:
            return  # a new province (or the template): nothing to count
    from reports import figures

    figures.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_figure_deltas"),
        ("dossiers", "0013_due_soon_from_the_index"),
        ("notifications", "0010_state_changed_at"),
        ("ratings", "0002_answer_log_append_only"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
