from django.db import migrations, models

BACKFILL = """
UPDATE notifications_notification n SET state_changed_at = CASE
    WHEN n.state = 'sent' THEN coalesce(n.sent_at, n.delivered_at, n.created_at)
    ELSE coalesce((SELECT max(a.at) FROM notifications_attempt a WHERE a.notification_id = n.id), n.created_at)
END
WHERE n.state_changed_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [("notifications", "0009_both_new_kinds")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="state_changed_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="đổi trạng thái lúc"),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
