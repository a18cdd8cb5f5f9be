"""Seed a province with a realistic history of dossiers in plain SQL (a million in minutes, not hours).

Used by the benchmarks only. The rows look like a province's real table a few years in: dossiers
spread over the last SEED_DAYS days, nearly all of the old ones returned (a few refused, withdrawn
or stopped, a few forgotten and late), the recent ones in every open status, held by the
department that handles their procedure and, while open, by one of its officers. Each has its
receipt event, and a closed one its closing event.

Seeding is idempotent and can grow: dossier n always gets the same code, token and data, so a
second run with a larger count adds only the missing ones (no code collides with the first run's,
nor with a real intake: the history is filed under an agency code of its own, HISTORY_AGENCY).
"""

import psycopg

from dossiers.text import fold

SEED_DAYS = 1000
RECENT_DAYS = 20  # dossiers received in the last RECENT_DAYS days are still being worked on
HISTORY_AGENCY = "000.99.99.H99"
TOKEN_PREFIX = "bench"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quang", "Thu", "Xuân", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Lan", "Linh", "Long", "Mai"]
GIVEN += ["Nam", "Nga", "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tú", "Tuấn", "Vy", "Yến", "Đông"]


def seeded_count(conn, schema):
    conn.execute(f'SET search_path TO "{schema}", public')
    return conn.execute(
        "SELECT count(*) FROM dossiers_dossier WHERE lookup_token LIKE %s", [TOKEN_PREFIX + "%"]
    ).fetchone()[0]


def seed_dossiers(database_url, schema, total, echo=print):
    """Grow `schema`'s seeded history to `total` dossiers; returns the number of rows in the table."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        have = seeded_count(conn, schema)
        if have < total:
            echo(f"{schema}: seeding {total - have:,} dossiers (to {total:,}) …")
            with conn.transaction():
                _insert(conn, have + 1, total)
            conn.execute("ANALYZE dossiers_dossier")
            conn.execute("ANALYZE dossiers_dossierevent")
        return conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]


def _anchor(conn):
    """The day the history ends (yesterday: nothing in the future).

    Fixed at the first seeding, so that dossier n keeps its code when the seed grows.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS bench_seed_anchor (day date NOT NULL)")
    row = conn.execute("SELECT day FROM bench_seed_anchor").fetchone()
    if row is None:
        row = conn.execute(
            "INSERT INTO bench_seed_anchor SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 1 RETURNING day"
        ).fetchone()
    return row[0]


def _insert(conn, first, last):
    anchor = _anchor(conn)
    after = conn.execute("SELECT coalesce(max(id), 0) FROM dossiers_dossier").fetchone()[0]
    # Procedures with the officers of the department handling each: a dossier n is of procedure
    # n mod P, held (while open) by officer n mod (that department's officers).
    procedures = conn.execute(
        """
        SELECT p.id, p.department_id, p.processing_days,
               array_agg(o.id ORDER BY o.id) FILTER (WHERE o.id IS NOT NULL)
        FROM dossiers_procedure p LEFT JOIN offices_officer o ON o.department_id = p.department_id
        GROUP BY p.id ORDER BY p.id
        """
    ).fetchall()
    procedures = [p for p in procedures if p[3]]
    if not procedures:
        raise SystemExit("the province has no procedure whose department has an officer: seed it first")
    counter = conn.execute(
        "SELECT o.id FROM offices_officer o JOIN offices_department d ON d.id = o.department_id "
        "WHERE d.is_reception ORDER BY o.id LIMIT 1"
    ).fetchone()
    counter_id = counter[0] if counter else procedures[0][3][0]
    conn.execute(
        "CREATE TEMP TABLE seed_proc (i int, id bigint, department_id bigint, days int, officers bigint[]) "
        "ON COMMIT DROP"
    )
    with conn.cursor().copy("COPY seed_proc FROM STDIN") as copy:
        for i, (pid, dep, days, officers) in enumerate(procedures):
            copy.write_row((i, pid, dep, days, officers))
    names = {
        "family": FAMILY,
        "family_f": [fold(x) for x in FAMILY],
        "middle": MIDDLE,
        "middle_f": [fold(x) for x in MIDDLE],
        "given": GIVEN,
        "given_f": [fold(x) for x in GIVEN],
    }
    # Status by age: recent dossiers in every open status; older ones mostly returned, with the
    # few refused/withdrawn/stopped and a handful still open and long overdue (forgotten files).
    conn.execute(
        """
        CREATE TEMP TABLE seed_rows ON COMMIT DROP AS
        SELECT n, (n %% %(days)s::int)::int AS age, ((n / %(days)s::int) + 1)::int AS seq,
               (abs(hashtext(n::text)) %% 1000)::int AS dice,
               p.id AS procedure_id, p.department_id, p.days, p.officers[1 + (n %% cardinality(p.officers))] AS officer,
               (n %% 14)::int AS f, (n / 14 %% 11)::int AS m, (n / 154 %% 28)::int AS g
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
        JOIN seed_proc p ON p.i = n %% (SELECT count(*) FROM seed_proc)
        """,
        {"days": SEED_DAYS, "first": first, "last": last},
    )
    conn.execute(
        """
        ALTER TABLE seed_rows ADD COLUMN status int, ADD COLUMN received timestamptz, ADD COLUMN due date
        """
    )
    conn.execute(
        """
        UPDATE seed_rows SET
            received = (%(anchor)s::date - age)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
                       + make_interval(mins => 450 + (dice * 7) %% 540),
            due = %(anchor)s::date - age + greatest(1, days * 7 / 5),
            status = CASE
                WHEN age < %(recent)s::int
                    THEN (ARRAY[1, 2, 2, 4, 4, 4, 4, 5, 6, 9, 9, 10, 10, 3, 7, 8])[1 + dice %% 16]
                WHEN dice < 5 THEN 4
                WHEN dice < 25 THEN 3
                WHEN dice < 35 THEN 7
                WHEN dice < 45 THEN 8
                ELSE 10 END
        """,
        {"recent": RECENT_DAYS, "anchor": anchor},
    )
    conn.execute(
        """
        INSERT INTO dossiers_dossier (code, procedure_id, channel, status, applicant_name,
            applicant_id_number, applicant_phone, applicant_address, applicant_email, applicant_ward_code,
            current_department_id, current_officer_id, received_by_id, registered_at, accepted_at,
            appointment_date, original_appointment_date, due_date, paused_at, remaining_days, fee_amount,
            result, result_ready_at, returned_at, closed_at, grade, lookup_token, version, search_text)
        SELECT %(agency)s || '-' || to_char(received AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD') || '-'
                   || lpad(seq::text, 4, '0'),
            procedure_id, 1 + (dice %% 10 = 0)::int + (dice %% 25 = 0)::int, status,
            (%(family)s::text[])[1 + f] || ' ' || (%(middle)s::text[])[1 + m] || ' ' || (%(given)s::text[])[1 + g],
            '0' || lpad((48000000000 + n)::text, 11, '0'), '09' || lpad((n %% 100000000)::text, 8, '0'),
            'Đà Nẵng', '', '',
            department_id, CASE WHEN status IN (2, 4, 5, 6, 9) THEN officer END,
            CASE WHEN status <> 1 THEN %(counter)s::bigint END, received,
            CASE WHEN status NOT IN (1, 3) THEN received END,
            due, due, due,
            CASE WHEN status = 5 THEN received + interval '1 day' END,
            CASE WHEN status = 5 THEN greatest(1, days) END,
            0, CASE WHEN status IN (9, 10) THEN 'Đã giải quyết' ELSE '' END,
            CASE WHEN status IN (9, 10) THEN received + make_interval(days => greatest(1, days)) END,
            CASE WHEN status = 10 THEN received + make_interval(days => greatest(1, days)) END,
            CASE WHEN status IN (3, 7, 8, 10) THEN received + make_interval(days => greatest(1, days)) END,
            CASE WHEN status = 10 THEN (ARRAY['early', 'on_time', 'on_time', 'late'])[1 + dice %% 4] ELSE '' END,
            %(prefix)s || md5(n::text), 1,
            lower(%(agency)s) || '-' || to_char(received AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD') || '-'
                || lpad(seq::text, 4, '0') || ' '
                || (%(family_f)s::text[])[1 + f] || ' ' || (%(middle_f)s::text[])[1 + m] || ' '
                || (%(given_f)s::text[])[1 + g] || ' 0' || lpad((48000000000 + n)::text, 11, '0')
        FROM seed_rows ORDER BY n
        """,
        {"agency": HISTORY_AGENCY, "counter": counter_id, "prefix": TOKEN_PREFIX, **names},
    )
    conn.execute(
        """
        INSERT INTO dossiers_dossierevent (dossier_id, action, from_status, to_status, actor_id,
            to_department_id, to_officer_id, created_at, citizen_note, internal_note, step_due, step_grade,
            appointment_date)
        SELECT d.id, 'receive', NULL, 2, d.received_by_id, d.current_department_id, d.current_officer_id,
            d.registered_at, '', '', d.due_date, '', d.appointment_date
        FROM dossiers_dossier d
        WHERE d.lookup_token LIKE %(prefix)s AND d.status <> 1 AND d.id > %(after)s
        """,
        {"prefix": TOKEN_PREFIX + "%", "after": after},
    )
    conn.execute(
        """
        INSERT INTO dossiers_dossierevent (dossier_id, action, from_status, to_status, actor_id,
            to_department_id, to_officer_id, created_at, citizen_note, internal_note, step_due, step_grade,
            appointment_date)
        SELECT d.id, CASE d.status WHEN 3 THEN 'refuse' WHEN 7 THEN 'withdraw' WHEN 8 THEN 'stop'
                                   ELSE 'return_result' END,
            2, d.status, d.received_by_id, d.current_department_id, NULL, d.closed_at, '', '', NULL, d.grade,
            d.appointment_date
        FROM dossiers_dossier d
        WHERE d.lookup_token LIKE %(prefix)s AND d.status IN (3, 7, 8, 10) AND d.id > %(after)s
        """,
        {"prefix": TOKEN_PREFIX + "%", "after": after},
    )


# Each seeded dossier of a "full worklists" province is put in one of these places in turn (its id
# modulo their number), so that 1,000 dossiers give every worklist of the demo roles a full page of
# 50 and more: (status, channel, holder, due date relative to today). The holder is "officer" (the
# specialist "chuyenvien"), "leader" ("lanhdao"), "department" or "leader_department" (theirs, no
# officer) or None (as seeded: the procedure's department and officer).
FULL_WORKLISTS = (
    (1, 2, None, 10),  # registered online: reception's "Chờ tiếp nhận"
    (9, 1, None, 10),  # result ready: "Chờ trả kết quả"
    (4, 1, None, -3),  # in progress and late: "Quá hạn"
    (4, 1, None, 0),  # due today: "Đến hạn trong 2 ngày làm việc"
    (5, 1, "department", 10),  # waiting for papers, in the specialists' department: both "Chờ bổ sung"
    (4, 1, "officer", 10),  # the specialist's own: "Hồ sơ tôi đang giữ", "Hồ sơ của phòng ban tôi"
    (4, 1, "leader", 10),  # handed to the leader: "Chờ ký duyệt"
    (2, 1, "leader_department", -2),  # accepted, late, at the leader's department: "Quá hạn tại phòng ban tôi"
)


def fill_worklists(database_url, schema, officer="chuyenvien", leader="lanhdao"):
    """Reshape `schema`'s seeded dossiers so that each worklist of the demo roles holds a page of 50 or more.

    For comparing a worklist page at a million dossiers with the same page, as many rows, in a
    small province (a realistic small province's worklists hold 1-12 dossiers: its pages show
    fewer rows, and rendering rows is part of a page's cost). Idempotent (dossier id n always gets
    FULL_WORKLISTS[n mod 8], dates relative to today).
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        holders = dict(
            conn.execute(
                "SELECT u.username, o.id FROM offices_officer o JOIN auth_user u ON u.id = o.user_id "
                "WHERE u.username IN (%s, %s)",
                [officer, leader],
            ).fetchall()
        )
        departments = dict(
            conn.execute(
                "SELECT id, department_id FROM offices_officer WHERE id = ANY(%s)", [list(holders.values())]
            ).fetchall()
        )
        places = [
            (i, status, channel, holder or "", days) for i, (status, channel, holder, days) in enumerate(FULL_WORKLISTS)
        ]
        conn.execute(
            """
            UPDATE dossiers_dossier d SET
                status = p.status, channel = p.channel,
                current_department_id = CASE WHEN p.holder = '' THEN d.current_department_id
                    WHEN p.holder LIKE 'leader%%' THEN %(leader_department)s ELSE %(department)s END,
                current_officer_id = CASE p.holder WHEN 'officer' THEN %(officer)s WHEN 'leader' THEN %(leader)s
                    WHEN 'department' THEN NULL WHEN 'leader_department' THEN NULL
                    ELSE CASE WHEN p.status IN (2, 4, 5, 6, 9) THEN d.current_officer_id END END,
                due_date = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + p.days,
                appointment_date = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + p.days,
                paused_at = CASE WHEN p.status = 5 THEN d.registered_at + interval '1 day' END,
                remaining_days = CASE WHEN p.status = 5 THEN 3 END,
                result = CASE WHEN p.status = 9 THEN 'Đã giải quyết' ELSE '' END,
                result_ready_at = CASE WHEN p.status = 9 THEN d.registered_at + interval '1 day' END,
                returned_at = NULL, closed_at = NULL, grade = ''
            FROM (SELECT * FROM unnest(%(i)s::int[], %(status)s::int[], %(channel)s::int[], %(holder)s::text[],
                                       %(days)s::int[]) AS t(i, status, channel, holder, days)) p
            WHERE d.lookup_token LIKE %(prefix)s AND p.i = d.id %% %(n)s
            """,
            {
                "department": departments[holders[officer]],
                "leader_department": departments[holders[leader]],
                "officer": holders[officer],
                "leader": holders[leader],
                "i": [p[0] for p in places],
                "status": [p[1] for p in places],
                "channel": [p[2] for p in places],
                "holder": [p[3] for p in places],
                "days": [p[4] for p in places],
                "prefix": TOKEN_PREFIX + "%",
                "n": len(places),
            },
        )
        # The admin benchmark's name search (the name of the dossier md5('777'), as in every seeded
        # province) finds a page of 50 and more here too: every 16th seeded dossier bears that name.
        conn.execute(
            r"""
            UPDATE dossiers_dossier d SET applicant_name = s.applicant_name,
                search_text = split_part(d.search_text, ' ', 1) || ' '
                    || regexp_replace(s.search_text, '^\S+ (.*) \S+$', '\1') || ' ' || d.applicant_id_number
            FROM (SELECT applicant_name, search_text FROM dossiers_dossier
                  WHERE lookup_token = %(token_prefix)s || md5('777')) s
            WHERE d.lookup_token LIKE %(prefix)s AND d.id %% 16 = 0
            """,
            {"token_prefix": TOKEN_PREFIX, "prefix": TOKEN_PREFIX + "%"},
        )
        conn.execute("ANALYZE dossiers_dossier")
