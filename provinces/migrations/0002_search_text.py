import django.contrib.postgres.indexes
from django.db import migrations, models

# The same statement as dossiers 0008 (the extension lives in public, once for the database); the
# public schema migrates before any province, so this one usually creates it.
CREATE_TRGM = """
SELECT pg_advisory_xact_lock(hashtext('egov:create extension pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
"""


def fold_existing(apps, schema_editor):
    from dossiers.text import fold

    Province = apps.get_model("provinces", "Province")
    provinces = list(Province.objects.all())
    for province in provinces:
        province.search_text = fold(f"{province.name} {province.slug} {province.agency_code}")
    Province.objects.bulk_update(provinces, ["search_text"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("provinces", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(CREATE_TRGM, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="province",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fold_existing, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="province",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(models.F("search_text"), name="gin_trgm_ops"),
                name="province_search_trgm",
            ),
        ),
    ]
