"""The dossier list's rows at a fixed cost per row (issue 12: a worklist page of 50 cost ~12 ms of rows).

Django's ``items_for_result`` works out each cell of each row from scratch: which kind of column
it is, its empty value, its CSS classes, ``dict(field.flatchoices)`` for a field with choices, and
for the link of the first column a ``reverse()`` and an ``add_preserved_filters`` that parses the
query string and ``resolve()``s the URL again, then ``format_html`` per cell and a template
variable per cell. All of that is the same for every row of a page but the row's values.

``rows(cl)`` works out once per page what does not depend on the row (each column's kind, classes,
empty value, choices, the change link around the primary key with the preserved filters) and per
row only reads the values, formats them with Django's own ``display_for_field`` /
``display_for_value`` and escapes them as ``format_html`` would. A row is one safe string, so the
template renders one variable per row. The HTML is Django's, byte for byte (tested against
``items_for_result``); a page Django renders differently (an editable list, a popup, a list linked
by another field than the primary key) goes through Django's own ``results``.
"""

import datetime

from django.contrib.admin.templatetags.admin_list import ResultList, _coerce_field_name
from django.contrib.admin.templatetags.admin_list import results as django_results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

SENTINEL = "8086420975319"  # a primary key no change link otherwise contains: where each row's goes


class Column:
    """What Django's items_for_result works out for one column, the same for every row."""

    def __init__(self, cl, index, name, is_link, table_tag):
        self.name = name
        self.is_link = is_link
        self.table_tag = table_tag
        self.empty = cl.model_admin.get_empty_value_display()
        self.field = self.attr = None
        self.kind = "lookup"  # anything else (a model attribute, property or method): Django's lookup_field per row
        try:
            self.field = _get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            pass
        if self.field is not None:
            self.kind = "field"
        elif callable(name):
            self.kind, self.attr = "callable", name
        elif hasattr(cl.model_admin, name) and name != "__str__":
            self.kind, self.attr = "callable", getattr(cl.model_admin, name)
        if self.attr is not None:
            self.empty = getattr(self.attr, "empty_value_display", self.empty)
        self.classes = [f"field-{_coerce_field_name(name, index)}"]
        if self.kind == "callable" and name == "action_checkbox":
            self.classes = ["action-checkbox"]
        self.choices = None
        if self.field is not None:
            if not self.field.auto_created and isinstance(
                self.field, (models.DateField, models.TimeField, models.ForeignKey)
            ):
                self.classes.append("nowrap")
            if getattr(self.field, "flatchoices", None):
                try:
                    self.choices = dict(self.field.flatchoices)
                except TypeError:  # list-like choices: Django's display_for_field handles them
                    self.choices = None

    def cell(self, cl, result, link):
        """(the cell's text as Django formats it, its classes) for `result`."""
        classes = self.classes
        empty = self.empty
        try:
            if self.kind == "field":
                field, attr, value = self.field, None, getattr(result, self.name)
            elif self.kind == "callable":
                field, attr, value = None, self.attr, self.attr(result)
            else:
                field, attr, value = lookup_field(self.name, result, cl.model_admin)
                empty = getattr(attr, "empty_value_display", empty)
        except ObjectDoesNotExist:
            return empty, classes
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if field is None or field.auto_created:
            boolean = getattr(attr, "boolean", False)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                boolean = getattr(attr.fget, "boolean", False)
            text = display_for_value(value, empty, boolean)
            if isinstance(value, (datetime.date, datetime.time)):
                classes = [*classes, "nowrap"]
            return text, classes
        if isinstance(field.remote_field, models.ManyToOneRel):
            related = getattr(result, field.name)
            return (empty if related is None else related), classes
        if self.choices is not None:
            try:
                return self.choices.get(value, empty), classes
            except TypeError:  # an unhashable value: Django's own path
                pass
        return display_for_field(value, field, empty, avoid_link=link), classes


def _link_columns(cl):
    """[(name, is_link, table tag)] as items_for_result decides them (the first link is a <th>)."""
    first = True
    columns = []
    for name in cl.list_display:
        if cl.list_display_links is None:
            is_link = False
        elif first and not cl.list_display_links:
            is_link = True
        else:
            is_link = name in cl.list_display_links
        tag = None
        if is_link:
            tag = "th" if first else "td"
            first = False
        columns.append((name, is_link, tag))
    return columns


def _change_link(cl):
    """(prefix, suffix) of a row's change link around its primary key, preserved filters included; or
    None when Django builds it otherwise (its own url_for_result is then asked for each row)."""
    if type(cl).url_for_result is not ChangeList.url_for_result:
        return None
    try:
        url = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(SENTINEL,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    if url.count(SENTINEL) != 1:
        return None
    prefix, _sentinel, suffix = url.partition(SENTINEL)
    return prefix, suffix


def fast_path_applies(cl):
    return not getattr(cl, "formset", None) and not cl.is_popup and not cl.to_field and _change_link(cl) is not None


def rows(cl):
    """The rows of `cl`'s page, each a ResultList of one safe string: Django's cells, joined."""
    if not fast_path_applies(cl):
        return list(django_results(cl))
    prefix, suffix = _change_link(cl)
    columns = [Column(cl, index, name, is_link, tag) for index, (name, is_link, tag) in enumerate(_link_columns(cl))]
    pk_attname = cl.lookup_opts.pk.attname
    escape = conditional_escape
    out = []
    for result in cl.result_list:
        cells = []
        for column in columns:
            text, classes = column.cell(cl, result, column.is_link)
            row_class = f' class="{" ".join(classes)}"'
            if column.is_link:
                pk = getattr(result, pk_attname)
                if isinstance(pk, int) and not isinstance(pk, bool):
                    url = f"{prefix}{pk}{suffix}"
                else:
                    url = add_preserved_filters(
                        {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(result)
                    )
                cells.append(
                    f'<{column.table_tag}{row_class}><a href="{escape(url)}">{escape(text)}</a></{column.table_tag}>'
                )
            else:
                cells.append(f"<td{row_class}>{escape(text)}</td>")
        out.append(ResultList(None, [mark_safe("".join(cells))]))  # noqa: S308 (every value escaped above)
    return out
