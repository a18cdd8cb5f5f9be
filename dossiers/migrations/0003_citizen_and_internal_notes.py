"""Officer notes split in two: `citizen_note` (public) and `internal_note` (officers only).

Before, every action's free-text `note` reached the citizen's status page (hand-over remarks,
"Trình lãnh đạo ký"). Existing notes become internal, except what the citizen must be told by law
and what the portal itself wrote for them: reasons of refusal, supplement requests, apologies,
stops and withdrawals, and the generated texts of a received supplement (new appointment date) and
a fee request (amount payable). The timeline stays append-only: the trigger is switched off for
this one UPDATE inside the migration's transaction and on again before it commits (deferred checks
are run first: PostgreSQL refuses ALTER TABLE while trigger events are pending).
"""

from django.db import migrations, models

PUBLIC_REASON_ACTIONS = ("refuse", "request_supplement", "postpone", "stop", "withdraw")
GENERATED_PUBLIC = {
    "receive_supplement": ("Đã nhận hồ sơ bổ sung; ngày hẹn trả mới %", "Supplementary documents received; %"),
    "request_fees": ("Số tiền phải nộp: %", "Amount payable: %"),
}

MOVE_TO_INTERNAL = """
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE dossiers_dossierevent DISABLE TRIGGER dossiers_timeline_append_only;
UPDATE dossiers_dossierevent
   SET internal_note = CASE WHEN internal_note = '' THEN citizen_note
                            ELSE citizen_note || E'\\n' || internal_note END,
       citizen_note = ''
 WHERE citizen_note <> ''
   AND action <> ALL(%s)
   AND NOT (action = 'receive_supplement' AND (citizen_note LIKE %s OR citizen_note LIKE %s))
   AND NOT (action = 'request_fees' AND (citizen_note LIKE %s OR citizen_note LIKE %s));
ALTER TABLE dossiers_dossierevent ENABLE TRIGGER dossiers_timeline_append_only;
"""


def move_notes(apps, schema_editor):
    params = [
        list(PUBLIC_REASON_ACTIONS),
        *GENERATED_PUBLIC["receive_supplement"],
        *GENERATED_PUBLIC["request_fees"],
    ]
    with schema_editor.connection.cursor() as cursor:
        for statement in filter(None, (part.strip() for part in MOVE_TO_INTERNAL.split(";"))):
            cursor.execute(statement, params if statement.startswith("UPDATE") else None)


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0002_timeline_append_only")]

    operations = [
        migrations.RenameField("dossierevent", "note", "citizen_note"),
        migrations.AlterField(
            model_name="dossierevent",
            name="citizen_note",
            field=models.TextField(blank=True, verbose_name="ghi chú gửi công dân (hiển thị công khai)"),
        ),
        migrations.AlterField(
            model_name="dossierevent",
            name="internal_note",
            field=models.TextField(blank=True, verbose_name="ghi chú nội bộ (chỉ cán bộ thấy)"),
        ),
        # Irreversible in meaning (which notes were meant for the citizen is not recorded): going back
        # leaves every note where it is.
        migrations.RunPython(move_notes, migrations.RunPython.noop),
    ]
