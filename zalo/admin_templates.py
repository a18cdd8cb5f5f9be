"""Admin of the province's approved Zalo templates and their parameters (issue 10.6).

A registration that cannot work is refused when saved, in Vietnamese: an unknown source field, a
parameter named twice, a source the message kind does not have (a receipt has no missing items),
no parameter at all, or a maximum length under 1; and, asked of Zalo (zalo.template_info), a
parameter the approved template does not have, one it requires left out, or a maximum above its own.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.template_data import KIND_SOURCES, SOURCES

from . import accounts, template_info
from . import errors as zerr
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


def approved_template_errors(template_id, parameters):
    """Vietnamese errors where the registration differs from the template Zalo approved (its
    ``listParams``): a parameter Zalo does not know, one Zalo requires left out, a maximum above
    Zalo's. Without a configured OA nothing can be asked and nothing is reported."""
    try:
        info = template_info.fetch(template_id)
    except accounts.NotConfigured:
        return []
    except zerr.ZaloError as exc:
        if exc.code == -109:
            return [_("Zalo không có mẫu tin %(id)s (hoặc mẫu chưa được duyệt).") % {"id": template_id}]
        return [_("Không kiểm tra được mẫu tin với Zalo (%(error)s); hãy lưu lại sau.") % {"error": exc}]
    approved = {}
    for item in info.get("listParams") or []:
        if isinstance(item, dict) and item.get("name"):
            approved[str(item["name"])] = item
    errors, names = [], set()
    for name, _source, max_length in parameters:
        name = (name or "").strip()
        names.add(name)
        if name not in approved:
            errors.append(
                _("Mẫu %(id)s tại Zalo không có tham số %(name)s. Tham số của mẫu: %(approved)s.")
                % {"id": template_id, "name": name, "approved": ", ".join(approved) or "—"}
            )
            continue
        try:
            zalo_max = int(approved[name].get("maxLength"))
        except (TypeError, ValueError):
            continue
        if max_length and max_length > zalo_max:
            errors.append(
                _("Tham số %(name)s: mẫu tại Zalo chỉ cho tối đa %(max)d ký tự, không phải %(given)d.")
                % {"name": name, "max": zalo_max, "given": max_length}
            )
    missing = [n for n, item in approved.items() if item.get("require", True) and n not in names]
    if missing:
        errors.append(
            _("Mẫu %(id)s tại Zalo bắt buộc có tham số: %(missing)s.")
            % {"id": template_id, "missing": ", ".join(missing)}
        )
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
        errors = parameter_errors(self.instance.kind, rows) or approved_template_errors(self.instance.template_id, rows)
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
