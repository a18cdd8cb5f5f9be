"""Admin of the province's approved Zalo templates and their parameters (issue 10.6).

A registration that cannot work is refused when saved, in Vietnamese: an unknown source field, a
parameter named twice, a source the message kind does not have (a receipt has no missing items),
no parameter at all, or a maximum length under 1.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.template_data import KIND_SOURCES, SOURCES

from .models import MessageTemplate, TemplateParameter


def parameter_errors(kind, parameters):
    """Vietnamese errors of (name, source, max_length) triples registered for a template of `kind`."""
    errors, seen = [], set()
    offered = KIND_SOURCES.get(kind, ())
    for name, source, max_length in parameters:
        name = (name or "").strip()
        if not name:
            errors.append(_("Tham số thiếu tên."))
            continue
        if name in seen:
            errors.append(_("Tham số %(name)s được khai báo hai lần.") % {"name": name})
        seen.add(name)
        if source not in SOURCES:
            errors.append(
                _("Tham số %(name)s lấy từ trường không có: %(source)s. Các trường: %(allowed)s.")
                % {"name": name, "source": source, "allowed": ", ".join(SOURCES)}
            )
        elif source not in offered:
            errors.append(
                _(
                    "Tham số %(name)s lấy từ “%(source)s”, nhưng loại tin này không có trường đó. "
                    "Được dùng: %(allowed)s."
                )
                % {
                    "name": name,
                    "source": SOURCES[source][0],
                    "allowed": ", ".join(str(SOURCES[s][0]) for s in offered),
                }
            )
        if max_length is None or max_length < 1:
            errors.append(_("Tham số %(name)s phải dài tối đa ít nhất 1 ký tự.") % {"name": name})
    if not seen:
        errors.append(_("Mẫu tin phải có ít nhất một tham số."))
    return errors


class ParameterFormSet(forms.BaseInlineFormSet):
    def clean(self):
        if any(self.errors):
            return
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            rows.append((data.get("name"), data.get("source"), data.get("max_length")))
        errors = parameter_errors(self.instance.kind, rows)
        if errors:
            raise ValidationError(errors)
        super().clean()


class ParameterInline(admin.TabularInline):
    model = TemplateParameter
    formset = ParameterFormSet
    extra = 3
    fields = ("name", "source", "max_length")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("template_id", "name", "kind", "channel", "is_active")
    list_filter = ("kind", "channel", "is_active")
    inlines = [ParameterInline]
    fields = ("kind", "channel", "template_id", "name", "is_active")

    @admin.display(description=gettext_lazy("tham số"))
    def parameter_names(self, obj):
        return ", ".join(obj.parameters.values_list("name", flat=True))
