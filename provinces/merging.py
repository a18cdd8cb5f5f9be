"""Merging one province into another (`manage.py merge_province --from binhduong --into hochiminh`).

Everything of the source schema moves into the target schema, generically: every concrete model of
the tenant apps (settings.TENANT_APPS, auto-created many-to-many tables included), in foreign-key
dependency order, so columns and tables other work adds are carried without a list here.

- Each row gets a new primary key in the target (the target's own sequence); every foreign key is
  remapped through the id map, a table `_merge_id_map` created by this code in the TARGET schema
  (provinces is a shared app: a provinces migration would create it in public only, and a tenant-app
  model would put a bookkeeping table into every province forever). One row per source row:
  (source schema, model, old id, new id, kind, note), kind "copied" (a new row), "merged" (mapped
  to an existing target row) or "skipped" (not moved). It is written in the same transaction as the
  rows of each batch, so a rerun after a crash continues where the last committed batch ended.
- Rows are never copied for what the target already has by natural key: content types and
  permissions (app label, model, codename), role groups (name; a group the target lacks is created
  with the same permissions). Per-model rules for unique values (`RULES`): usernames and department
  codes are renamed with the source's prefix, procedures with the same code merge into the target's
  (their component lists stay the target's), the same Zalo follower (same user id) merges, the
  target's calendar, message texts and broadcast settings win. Any other unique clash stops the
  merge with its model and value (dossier codes are globally unique by agency code).
- Sessions are not copied (everyone logs in again on the target); lockout counters neither.
- At the start the source schema is frozen: a trigger on each of its tables refuses every write
  (PostgreSQL triggers bind the superuser too, unlike REVOKE). At the end, after the verification
  (row counts and an md5 over each model's business columns, source against target), the source's
  domains become non-primary aliases of the target, and the Province row gets `merged_into`. The
  frozen schema stays until a person drops it.
"""

# ruff: noqa: S608 -- table and schema names come from the models and the catalogue, always quoted (_q)
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models.deletion import CASCADE
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from offices.models import AccountAction

from .models import Domain, Province

logger = logging.getLogger(__name__)
RENAMED = AccountAction.RENAMED_BY_MERGE.value

MAP_TABLE = "_merge_id_map"
BATCH_SIZE = 500
READONLY_FUNCTION = "_merged_province_readonly"
READONLY_TRIGGER = "merged_province_readonly"

# Models matched by natural key in the target, never copied.
NATURAL = {"contenttypes.contenttype", "auth.permission", "auth.group"}
# Models not moved: sessions (everyone logs in again on the target's domain), the groups' permission
# table (groups are the target's), lockout counters (keyed by usernames that may be renamed).
SKIP = {"sessions.session", "auth.group_permissions", "axes.accessattempt"}
# Derived data, not moved: the dashboard's figures are recomputed in the target from the rows moved
# (reports.figures.rebuild), since their keys are ids the merge renumbers.
DERIVED = {"reports.figure", "reports.figuredelta", "reports.contribution"}
SKIP |= DERIVED


@dataclass(frozen=True)
class Rule:
    """What to do when a source row's unique value is already in the target."""

    on_conflict: str  # "rename" | "merge" | "singleton"
    rename_field: str = ""
    drop_children: bool = False  # rows owned (CASCADE) by a merged row stay the target's own
    overrides: tuple = ()  # (field name, value) set on every copied row


RULES = {
    "auth.user": Rule("rename", rename_field="username"),
    "offices.department": Rule("rename", rename_field="code"),
    "dossiers.procedure": Rule("merge", drop_children=True),
    "dossiers.workingdayoverride": Rule("merge"),
    "dossiers.dossiercounter": Rule("merge"),
    "zalo.follower": Rule("merge"),
    "zalo.followerward": Rule("merge"),
    "zalo.inboundevent": Rule("merge"),
    "notifications.messagetext": Rule("merge"),
    "broadcasts.broadcastsettings": Rule("singleton"),
    # The source's OA and its templates are kept (secrets as stored) but inactive: the target's serve.
    "zalo.zaloaccount": Rule("merge", overrides=(("is_active", False),)),
    "zalo.messagetemplate": Rule("merge", overrides=(("is_active", False),)),
}


class MergeError(Exception):
    pass


@dataclass
class ModelReport:
    label: str
    source_rows: int = 0
    copied: int = 0
    merged: int = 0
    skipped: int = 0
    renamed: list = field(default_factory=list)  # (old, new)
    conflicts: Counter = field(default_factory=Counter)  # rule → count
    checksum_source: str = ""
    checksum_target: str = ""

    @property
    def moved(self):
        return self.copied + self.merged + self.skipped


@dataclass
class MergeReport:
    source: str
    target: str
    dry_run: bool
    models: dict = field(default_factory=dict)  # label → ModelReport
    batches: int = 0
    verified: bool = False
    mismatches: list = field(default_factory=list)  # models whose counts or checksums differ

    def model(self, label):
        return self.models.setdefault(label, ModelReport(label))

    def verification(self):
        """Counts and checksums per model: what two merges of the same data must agree on."""
        return {
            label: (m.source_rows, m.copied, m.merged, m.skipped, m.checksum_source, m.checksum_target)
            for label, m in sorted(self.models.items())
        }

    def conflicts(self):
        return {(label, rule): n for label, m in self.models.items() for rule, n in m.conflicts.items()}


# --- the models and their order ---------------------------------------------------------------------


def _tenant_app_configs():
    wanted = set(settings.TENANT_APPS)
    for config in apps.get_app_configs():
        if config.name in wanted or f"{type(config).__module__}.{type(config).__name__}" in wanted:
            yield config


def tenant_models():
    """Every concrete table of the tenant apps, dependencies first (a model after those it points to)."""
    labels = {config.label for config in _tenant_app_configs()}
    found = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in labels and m._meta.managed and not m._meta.proxy
    ]
    by_label = {m._meta.label_lower: m for m in found}
    ordered, state = [], {}

    def visit(model, path):
        label = model._meta.label_lower
        if state.get(label) == "done":
            return
        if state.get(label) == "visiting":
            raise MergeError(_("Vòng phụ thuộc khóa ngoại giữa các bảng: %s") % " → ".join([*path, label]))
        state[label] = "visiting"
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is not None:
                other = f.related_model._meta.label_lower
                if other != label:  # a row pointing at a row of its own table: handled per batch
                    if other not in by_label:
                        raise MergeError(_("Bảng %(m)s trỏ đến %(o)s ngoài lược đồ tỉnh.") % {"m": label, "o": other})
                    visit(by_label[other], [*path, label])
        state[label] = "done"
        ordered.append(model)

    for model in found:
        visit(model, [])
    return ordered


def _q(name):
    return '"' + name.replace('"', '""') + '"'


def _table(schema, model):
    return f"{_q(schema)}.{_q(model._meta.db_table)}"


def _auto_pk(model):
    return isinstance(model._meta.pk, models.AutoField)  # Auto, BigAuto, SmallAuto


def _fks(model):
    return [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is not None]


def _unique_sets(model):
    """Column-name tuples the model keeps unique without a condition (the primary key excepted)."""
    sets = []
    for f in model._meta.concrete_fields:
        if f.unique and not f.primary_key:
            sets.append((f,))
    for together in model._meta.unique_together:
        sets.append(tuple(model._meta.get_field(n) for n in together))
    for c in model._meta.constraints:
        if isinstance(c, models.UniqueConstraint) and c.condition is None and c.fields and not c.expressions:
            sets.append(tuple(model._meta.get_field(n) for n in c.fields))
    return sets


# --- the merge -------------------------------------------------------------------------------------


class Merger:
    def __init__(self, source: Province, target: Province, *, dry_run=False, batch_size=BATCH_SIZE, batch_hook=None):
        self.source, self.target = source, target
        self.src, self.dst = source.schema_name, target.schema_name
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.batch_hook = batch_hook
        self.report = MergeReport(source.slug, target.slug, dry_run)
        self.map = f"{_q(self.dst)}.{_q(MAP_TABLE)}"
        self.models = tenant_models()
        self.by_label = {m._meta.label_lower: m for m in self.models}

    # -- the id map
    def _ensure_map(self, cursor):
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.map} (source text NOT NULL, model text NOT NULL, "
            "old_id text NOT NULL, new_id text, kind text NOT NULL, note text NOT NULL DEFAULT '', "
            "PRIMARY KEY (source, model, old_id))"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {_q(MAP_TABLE + '_new')} ON {self.map} (source, model, new_id)")

    def _lookup(self, cursor, label, old_ids):
        """old id (as text) → (new id, kind) for `label`'s rows already in the map."""
        if not old_ids:
            return {}
        cursor.execute(
            f"SELECT old_id, new_id, kind FROM {self.map} WHERE source = %s AND model = %s AND old_id = ANY(%s)",
            [self.src, label, [str(i) for i in old_ids]],
        )
        return {old: (new, kind) for old, new, kind in cursor.fetchall()}

    def _record(self, cursor, label, rows):
        """rows: (old id, new id or None, kind, note)."""
        if rows:
            cursor.executemany(
                f"INSERT INTO {self.map} (source, model, old_id, new_id, kind, note) VALUES (%s, %s, %s, %s, %s, %s)",
                [(self.src, label, str(o), None if n is None else str(n), k, note) for o, n, k, note in rows],
            )

    # -- checks before anything
    def check(self):
        if self.source.pk == self.target.pk:
            raise MergeError(_("Không thể sáp nhập một tỉnh vào chính nó."))
        for province in (self.source, self.target):
            if province.schema_name == get_public_schema_name():
                raise MergeError(_("Lược đồ chung không phải là một tỉnh."))
        if self.source.merged_into_id:
            raise MergeError(
                _("%(src)s đã được sáp nhập vào %(dst)s; không sáp nhập lại.")
                % {"src": self.source.name, "dst": self.source.merged_into.name}
            )
        if self.target.merged_into_id:
            raise MergeError(
                _("%(dst)s đã được sáp nhập vào %(other)s; hãy sáp nhập vào tỉnh đang hoạt động.")
                % {"dst": self.target.name, "other": self.target.merged_into.name}
            )

    # -- freezing the source
    def freeze_source(self, cursor):
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {_q(self.src)}.{READONLY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION 'province schema % is merged into %: read-only', "
            f"TG_TABLE_SCHEMA, {_literal(self.dst)} USING ERRCODE = 'read_only_sql_transaction'; END $$"
        )
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [self.src])
        for (table,) in cursor.fetchall():
            cursor.execute(
                "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s AND t.tgname = %s",
                [self.src, table, READONLY_TRIGGER],
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    f"CREATE TRIGGER {READONLY_TRIGGER} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON {_q(self.src)}.{_q(table)} FOR EACH STATEMENT EXECUTE FUNCTION "
                    f"{_q(self.src)}.{READONLY_FUNCTION}()"
                )

    # -- natural keys
    def map_natural(self, cursor):
        ct = self.by_label["contenttypes.contenttype"]
        cursor.execute(f"SELECT id, app_label, model FROM {_table(self.src, ct)} ORDER BY id")
        src_cts = cursor.fetchall()
        cursor.execute(f"SELECT app_label, model, id FROM {_table(self.dst, ct)}")
        dst_cts = {(a, m): i for a, m, i in cursor.fetchall()}
        done = self._lookup(cursor, "contenttypes.contenttype", [i for i, *_ in src_cts])
        rows = []
        for i, app_label, model in src_cts:
            if str(i) in done:
                continue
            if (app_label, model) in dst_cts:
                rows.append((i, dst_cts[(app_label, model)], "merged", ""))
            else:  # a model gone from the code: nothing refers to it any more
                rows.append((i, None, "skipped", f"{app_label}.{model}"))
        self._record(cursor, "contenttypes.contenttype", rows)

        perm = self.by_label["auth.permission"]
        cursor.execute(
            f"SELECT p.id, c.app_label, c.model, p.codename FROM {_table(self.src, perm)} p "
            f"JOIN {_table(self.src, ct)} c ON c.id = p.content_type_id ORDER BY p.id"
        )
        src_perms = cursor.fetchall()
        cursor.execute(
            f"SELECT c.app_label, c.model, p.codename, p.id FROM {_table(self.dst, perm)} p "
            f"JOIN {_table(self.dst, ct)} c ON c.id = p.content_type_id"
        )
        dst_perms = {(a, m, c): i for a, m, c, i in cursor.fetchall()}
        done = self._lookup(cursor, "auth.permission", [p[0] for p in src_perms])
        rows = []
        for i, a, m, c in src_perms:
            if str(i) not in done:
                new = dst_perms.get((a, m, c))
                rows.append((i, new, "merged" if new else "skipped", "" if new else f"{a}.{c}"))
        self._record(cursor, "auth.permission", rows)

        group = self.by_label["auth.group"]
        cursor.execute(f"SELECT id, name FROM {_table(self.src, group)} ORDER BY id")
        src_groups = cursor.fetchall()
        done = self._lookup(cursor, "auth.group", [g[0] for g in src_groups])
        rows = []
        for i, name in src_groups:
            if str(i) in done:
                continue
            cursor.execute(f"SELECT id FROM {_table(self.dst, group)} WHERE name = %s", [name])
            found = cursor.fetchone()
            if found:
                rows.append((i, found[0], "merged", ""))
                continue
            # A group only the source has: created in the target with the same permissions.
            cursor.execute(f"INSERT INTO {_table(self.dst, group)} (name) VALUES (%s) RETURNING id", [name])
            new = cursor.fetchone()[0]
            through = group.permissions.through
            cursor.execute(
                f"INSERT INTO {_table(self.dst, through)} (group_id, permission_id) "
                f"SELECT %s, m.new_id::int FROM {_table(self.src, through)} gp JOIN {self.map} m "
                "ON m.source = %s AND m.model = 'auth.permission' AND m.old_id = gp.permission_id::text "
                "AND m.new_id IS NOT NULL WHERE gp.group_id = %s",
                [new, self.src, i],
            )
            rows.append((i, new, "copied", "created"))
        self._record(cursor, "auth.group", rows)

    # -- one model
    def move_model(self, model):
        label = model._meta.label_lower
        rep = self.report.model(label)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {_table(self.src, model)}")
            rep.source_rows = cursor.fetchone()[0]
        if label in SKIP:
            self._skip_all(model)
            return
        pk = model._meta.pk
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT * FROM {_table(self.src, model)} s WHERE NOT EXISTS (SELECT 1 FROM {self.map} m "
                    f"WHERE m.source = %s AND m.model = %s AND m.old_id = s.{_q(pk.column)}::text) "
                    f"ORDER BY s.{_q(pk.column)} LIMIT %s",
                    [self.src, label, self.batch_size],
                )
                columns = [c.name for c in cursor.description]
                rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
                if not rows:
                    break
                try:
                    self._move_batch(cursor, model, rows, rep)
                except IntegrityError as exc:  # a conditional unique constraint, a check: this batch is undone
                    raise MergeError(
                        _("%(m)s: tỉnh nhận từ chối một dòng (%(e)s); lô này không được ghi.")
                        % {"m": label, "e": str(exc).splitlines()[0]}
                    ) from exc
            self.report.batches += 1
            if self.batch_hook is not None:
                self.batch_hook(label, self.report.batches)

    def _skip_all(self, model):
        label = model._meta.label_lower
        pk = model._meta.pk.column
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.map} (source, model, old_id, new_id, kind) "
                f"SELECT %s, %s, s.{_q(pk)}::text, NULL, 'skipped' FROM {_table(self.src, model)} s "
                f"ON CONFLICT DO NOTHING",
                [self.src, label],
            )

    def _move_batch(self, cursor, model, rows, rep):
        label = model._meta.label_lower
        rule = RULES.get(label)
        pk = model._meta.pk
        auto = _auto_pk(model)
        records = []
        # Foreign keys through the map (a reference to a row of the same table may be in this batch).
        fk_maps = {}
        self_fks = [f for f in _fks(model) if f.related_model._meta.label_lower == label]
        for f in _fks(model):
            other = f.related_model._meta.label_lower
            if other == label:
                continue
            olds = {r[f.column] for r in rows if r[f.column] is not None}
            fk_maps[f.column] = self._lookup(cursor, other, olds)
        if auto:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [_table(self.dst, model), pk.column, len(rows)],
            )
            allocated = [r[0] for r in cursor.fetchall()]
        kept = []
        for row in rows:
            old_pk = row[pk.column]
            # Rows owned by a row that merged into the target's own (a merged procedure's components).
            dropped = False
            for f in _fks(model):
                parent_rule = RULES.get(f.related_model._meta.label_lower)
                if parent_rule and parent_rule.drop_children and f.remote_field.on_delete is CASCADE:
                    hit = fk_maps[f.column].get(str(row[f.column]))
                    if hit and hit[1] == "merged":
                        dropped = True
            if dropped:
                records.append((old_pk, None, "skipped", "owned by a merged row"))
                rep.skipped += 1
                rep.conflicts["kept_target_children"] += 1
                continue
            values = dict(row)
            for f in _fks(model):
                if dropped:
                    break
                if f in self_fks or values[f.column] is None:
                    continue
                hit = fk_maps[f.column].get(str(values[f.column]))
                if hit is None or hit[0] is None:
                    if f.remote_field.on_delete is CASCADE:  # owned by a row that was not moved
                        dropped = True
                        break
                    if f.null:
                        values[f.column] = None
                        continue
                    raise MergeError(
                        _("%(m)s #%(id)s trỏ đến %(o)s #%(v)s chưa được chuyển.")
                        % {"m": label, "id": old_pk, "o": f.related_model._meta.label_lower, "v": values[f.column]}
                    )
                values[f.column] = _cast(f.target_field, hit[0])
            if dropped:
                records.append((old_pk, None, "skipped", "owner not moved"))
                rep.skipped += 1
                continue
            if rule:
                for name, value in rule.overrides:
                    values[model._meta.get_field(name).column] = value
            if label == "admin.logentry":
                self._remap_object_id(cursor, values)
            kept.append((old_pk, values))

        # Unique values the target already has.
        to_insert = []
        for old_pk, values in kept:
            clash = self._clash(cursor, model, values)
            if clash is None:
                to_insert.append((old_pk, values, ""))
                continue
            fields, existing_pk = clash
            names = ",".join(f.name for f in fields)
            if rule is None:
                raise MergeError(
                    _("%(m)s: giá trị %(f)s = %(v)s đã có ở tỉnh nhận; không có quy tắc gộp.")
                    % {"m": label, "f": names, "v": [values[f.column] for f in fields]}
                )
            if rule.on_conflict == "rename":
                f = model._meta.get_field(rule.rename_field)
                old_value = values[f.column]
                values[f.column] = self._free_name(cursor, model, f, old_value)
                if label == "offices.department":
                    limit = model._meta.get_field("name").max_length
                    values["name"] = f"{values['name']} ({self.source.name})"[:limit]
                rep.renamed.append((old_value, values[f.column]))
                rep.conflicts[f"renamed:{f.name}"] += 1
                to_insert.append((old_pk, values, f"renamed {old_value} -> {values[f.column]}"))
            else:
                if label == "dossiers.dossiercounter":  # the same agency's day: continue after both
                    cursor.execute(
                        f"UPDATE {_table(self.dst, model)} SET last = GREATEST(last, %s) WHERE id = %s",
                        [values["last"], existing_pk],
                    )
                records.append((old_pk, existing_pk, "merged", names))
                rep.merged += 1
                rep.conflicts[f"merged:{names}"] += 1
        if rule and rule.on_conflict == "singleton":
            cursor.execute(f"SELECT {_q(pk.column)} FROM {_table(self.dst, model)} ORDER BY 1 LIMIT 1")
            existing = cursor.fetchone()
            if existing:
                for old_pk, _values, _note in to_insert:
                    records.append((old_pk, existing[0], "merged", "singleton"))
                    rep.merged += 1
                    rep.conflicts["merged:singleton"] += 1
                to_insert = []

        # New ids, then the rows (foreign keys are deferred: a row may point at a later one of the batch).
        batch_map = {}
        for n, (old_pk, _values, _note) in enumerate(to_insert):
            batch_map[str(old_pk)] = allocated[n] if auto else old_pk
        for old_pk, values, note in to_insert:
            for f in self_fks:
                ref = values[f.column]
                if ref is None:
                    continue
                new = batch_map.get(str(ref)) or (self._lookup(cursor, label, [ref]).get(str(ref)) or (None,))[0]
                if new is None:
                    raise MergeError(
                        _("%(m)s #%(id)s trỏ đến dòng #%(v)s cùng bảng chưa được chuyển.")
                        % {"m": label, "id": old_pk, "v": ref}
                    )
                values[f.column] = _cast(pk, new)
            values[pk.column] = batch_map[str(old_pk)]
            records.append((old_pk, values[pk.column], "copied", note))
            rep.copied += 1
        if to_insert:
            columns = list(to_insert[0][1])
            json_columns = {f.column for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}
            cursor.executemany(
                f"INSERT INTO {_table(self.dst, model)} ({', '.join(_q(c) for c in columns)}) "
                f"VALUES ({', '.join('%s::jsonb' if c in json_columns else '%s' for c in columns)})",
                [[_adapt(v[c], c in json_columns) for c in columns] for _o, v, _n in to_insert],
            )
        self._record(cursor, label, records)

    def _clash(self, cursor, model, values):
        for fields in _unique_sets(model):
            vals = [values[f.column] for f in fields]
            if any(v is None for v in vals):
                continue
            where = " AND ".join(f"{_q(f.column)} = %s" for f in fields)
            cursor.execute(
                f"SELECT {_q(model._meta.pk.column)} FROM {_table(self.dst, model)} WHERE {where} LIMIT 1",
                vals,
            )
            found = cursor.fetchone()
            if found:
                return fields, found[0]
        return None

    def _free_name(self, cursor, model, f, value):
        prefix = self.source.slug
        base = f"{prefix}.{value}" if model._meta.label_lower == "auth.user" else f"{prefix.upper()}-{value}"
        base = base[: f.max_length]
        candidate, n = base, 1
        while True:
            cursor.execute(f"SELECT 1 FROM {_table(self.dst, model)} WHERE {_q(f.column)} = %s", [candidate])
            if cursor.fetchone() is None:
                return candidate
            n += 1
            candidate = f"{base[: f.max_length - len(str(n)) - 1]}-{n}"

    def _remap_object_id(self, cursor, values):
        """An admin log entry names its object by content type and id: the id as the target knows it."""
        ct = values.get("content_type_id")
        if ct is None or not values.get("object_id"):
            return
        cursor.execute(f"SELECT app_label, model FROM {_q(self.dst)}.django_content_type WHERE id = %s", [ct])
        found = cursor.fetchone()
        if found:
            hit = self._lookup(cursor, f"{found[0]}.{found[1]}", [values["object_id"]]).get(str(values["object_id"]))
            if hit and hit[0] is not None:
                values["object_id"] = hit[0]

    # -- the accounts told
    def tell_renamed_officers(self, cursor):
        """An account audit row for each renamed login, in the target (its admins and the officer see it)."""
        cursor.execute(
            f"SELECT new_id, note FROM {self.map} WHERE source = %s AND model = 'auth.user' "
            "AND note LIKE 'renamed %%' ORDER BY old_id",
            [self.src],
        )
        renamed = cursor.fetchall()
        if not renamed or "offices.accountaudit" not in self.by_label:
            return
        audit = self.by_label["offices.accountaudit"]
        for new_id, note in renamed:
            _word, old, _arrow, new = note.split(" ", 3)
            detail = _("Sáp nhập %(src)s vào %(dst)s: tên đăng nhập “%(old)s” đổi thành “%(new)s”.") % {
                "src": self.source.name,
                "dst": self.target.name,
                "old": old,
                "new": new,
            }
            cursor.execute(
                f"SELECT 1 FROM {_table(self.dst, audit)} WHERE target_id = %s AND detail = %s", [int(new_id), detail]
            )
            if cursor.fetchone():
                continue
            cursor.execute(
                f"INSERT INTO {_table(self.dst, audit)} (created_at, action, actor_id, actor_name, target_id, "
                "target_name, approver_id, approver_name, detail) VALUES (%s, %s, NULL, %s, %s, %s, NULL, '', %s)",
                [
                    timezone.now(),
                    AccountAction.RENAMED_BY_MERGE.value,
                    _("Sáp nhập tỉnh"),
                    int(new_id),
                    new,
                    detail[:500],
                ],
            )

    # -- verification
    def verify(self):
        self.report.mismatches = []
        with connection.cursor() as cursor:
            for model in self.models:
                label = model._meta.label_lower
                rep = self.report.model(label)
                cursor.execute(
                    f"SELECT kind, count(*) FROM {self.map} WHERE source = %s AND model = %s GROUP BY kind",
                    [self.src, label],
                )
                kinds = dict(cursor.fetchall())
                rep.copied, rep.merged, rep.skipped = (kinds.get(k, 0) for k in ("copied", "merged", "skipped"))
                # The conflicts and renames of every run (a resumed merge reports the whole merge).
                cursor.execute(
                    f"SELECT kind, note FROM {self.map} WHERE source = %s AND model = %s AND note <> '' "
                    "ORDER BY old_id",
                    [self.src, label],
                )
                rep.conflicts, rep.renamed = Counter(), []
                for kind, note in cursor.fetchall():
                    if note.startswith("renamed "):
                        _word, old, _arrow, new = note.split(" ", 3)
                        rep.renamed.append((old, new))
                        rep.conflicts[f"renamed:{RULES[label].rename_field}"] += 1
                    elif kind == "merged" and label not in NATURAL:
                        rep.conflicts[f"merged:{note}"] += 1
                    elif note == "owned by a merged row":
                        rep.conflicts["kept_target_children"] += 1
                cursor.execute(f"SELECT count(*) FROM {_table(self.src, model)}")
                rep.source_rows = cursor.fetchone()[0]
                if rep.moved != rep.source_rows:
                    self.report.mismatches.append(f"{label} ({rep.moved}/{rep.source_rows})")
                pk = model._meta.pk.column
                cursor.execute(
                    f"SELECT count(*) FROM {_table(self.dst, model)} t JOIN {self.map} m ON m.source = %s "
                    f"AND m.model = %s AND m.kind IN ('copied', 'merged') AND m.new_id = t.{_q(pk)}::text",
                    [self.src, label],
                )
                if cursor.fetchone()[0] != rep.copied + rep.merged:
                    self.report.mismatches.append(f"{label} (rows)")
                columns = _business_columns(model)
                row = "ROW(" + ", ".join(f"x.{_q(c)}" for c in columns) + ")::text" if columns else "''"
                sums = []
                for schema, side in ((self.src, "old_id"), (self.dst, "new_id")):
                    cursor.execute(
                        f"SELECT md5(coalesce(string_agg({row}, E'\\n' ORDER BY m.old_id), '')) "
                        f"FROM {_table(schema, model)} x JOIN {self.map} m ON m.source = %s AND m.model = %s "
                        f"AND m.kind = 'copied' AND m.{side} = x.{_q(pk)}::text",
                        [self.src, label],
                    )
                    sums.append(cursor.fetchone()[0])
                rep.checksum_source, rep.checksum_target = sums
                if sums[0] != sums[1]:
                    self.report.mismatches.append(f"{label} (md5)")
        self.report.verified = not self.report.mismatches
        return self.report.verified

    # -- the end
    def recompute_figures(self):
        """The target's dashboard figures from scratch: its own dossiers and the moved ones."""
        from reports.figures import rebuild

        with tenant_context(self.target):
            rebuild(reset=True)

    def finish(self):
        with transaction.atomic():
            with schema_context(get_public_schema_name()):
                for domain in Domain.objects.filter(tenant=self.source):
                    domain.tenant = self.target
                    domain.is_primary = False
                    domain.save()  # signals: every web process forgets the host
                self.source.merged_into = self.target
                self.source.merged_at = timezone.now()
                self.source.save(update_fields=["merged_into", "merged_at"])  # its cached rows evicted

    def run(self):
        self.check()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"merge_province:{self.src}"])
            if not cursor.fetchone()[0]:
                raise MergeError(_("Một lần sáp nhập khác của %s đang chạy.") % self.source.name)
        try:
            if self.dry_run:
                return self._dry_run()
            with transaction.atomic(), connection.cursor() as cursor:
                self._ensure_map(cursor)
                self.freeze_source(cursor)
                self.map_natural(cursor)
            for model in self.models:
                if model._meta.label_lower not in NATURAL:
                    self.move_model(model)
            with transaction.atomic(), connection.cursor() as cursor:
                self.tell_renamed_officers(cursor)
            if not self.verify():
                raise MergeError(
                    _("Kiểm tra sau khi chuyển không khớp (%s); tỉnh cũ chưa được đánh dấu đã sáp nhập.")
                    % ", ".join(self.report.mismatches)
                )
            self.recompute_figures()
            self.finish()
            return self.report
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"merge_province:{self.src}"])

    def _dry_run(self):
        """The whole merge in one transaction rolled back at the end: exact counts and conflicts, nothing
        written (the target's sequences do advance: PostgreSQL never takes back a number)."""

        class Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    self._ensure_map(cursor)
                    self.map_natural(cursor)
                for model in self.models:
                    if model._meta.label_lower not in NATURAL:
                        self.move_model(model)
                self.verify()
                raise Rollback
        except Rollback:
            pass
        return self.report


def _literal(value):
    return "'" + value.replace("'", "''") + "'"


def _business_columns(model):
    """Columns compared by the checksum: not the primary key, not remapped references, not those a rule changes."""
    rule = RULES.get(model._meta.label_lower)
    changed = set()
    if rule:
        changed |= {model._meta.get_field(n).column for n, _v in rule.overrides}
        if rule.rename_field:
            changed.add(model._meta.get_field(rule.rename_field).column)
            if model._meta.label_lower == "offices.department":
                changed.add("name")
    if model._meta.label_lower == "admin.logentry":
        changed.add("object_id")
    columns = []
    for f in model._meta.concrete_fields:
        if (f.primary_key and _auto_pk(model)) or f.is_relation or f.column in changed:
            continue
        columns.append(f.column)
    return columns


def _cast(target_field, value):
    if value is None:
        return None
    if isinstance(target_field, models.AutoField | models.IntegerField):
        return int(value)
    return value


def _adapt(value, is_json):
    """Values as read; a JSON column comes back as its text (Django turns psycopg's decoding off)."""
    import json

    if is_json and value is not None and not isinstance(value, str):
        return json.dumps(value)
    return value


def merge_province(source_slug, target_slug, *, dry_run=False, batch_size=BATCH_SIZE, batch_hook=None) -> MergeReport:
    with schema_context(get_public_schema_name()):
        source = Province.objects.filter(slug=source_slug).exclude(schema_name=get_public_schema_name()).first()
        target = Province.objects.filter(slug=target_slug).exclude(schema_name=get_public_schema_name()).first()
    if source is None:
        raise MergeError(_("Không có tỉnh “%s”.") % source_slug)
    if target is None:
        raise MergeError(_("Không có tỉnh “%s”.") % target_slug)
    merger = Merger(source, target, dry_run=dry_run, batch_size=batch_size, batch_hook=batch_hook)
    connection.set_schema_to_public()
    try:
        return merger.run()
    finally:
        connection.set_schema_to_public()


def merged_counts(province_slug, labels):
    """Row counts of `labels` in a province's schema (tests, the command's summary)."""
    province = Province.objects.get(slug=province_slug)
    by_label = {m._meta.label_lower: m for m in tenant_models()}
    out = defaultdict(int)
    with connection.cursor() as cursor:
        for label in labels:
            cursor.execute(f"SELECT count(*) FROM {_table(province.schema_name, by_label[label])}")
            out[label] = cursor.fetchone()[0]
    return dict(out)
