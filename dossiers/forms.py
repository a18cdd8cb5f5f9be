"""Admin forms: each action's form collects input and hands it to the matching service."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from offices.models import Department, Officer

from . import services, workflow
from .models import Channel, Procedure

DATE_WIDGET = forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}, format="%d/%m/%Y")
INTERNAL_NOTE_LABEL = _("Ghi chú nội bộ (chỉ cán bộ thấy)")
CITIZEN_NOTE_LABEL = _("Ghi chú gửi công dân (hiển thị công khai)")
PUBLIC_REASON_HELP = _("Công dân sẽ đọc được lý do này (trang tra cứu, tin nhắn, phiếu in).")


def internal_note_field():
    return forms.CharField(
        label=INTERNAL_NOTE_LABEL,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Mặc định: ví dụ “trình lãnh đạo ký”, tên, số điện thoại đồng nghiệp. Công dân không thấy."),
    )


def citizen_note_field():
    return forms.CharField(
        label=CITIZEN_NOTE_LABEL,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Hiện trên trang tra cứu và trong tin nhắn gửi công dân. Chỉ ghi điều công dân được biết."),
    )


class NotesMixin:
    """A note for the citizen and an internal one, clearly labelled; internal is the default.

    A bare `note` posted without saying whom it is for (an old page, a script) is kept as internal."""

    def notes(self):
        data = self.cleaned_data
        legacy = (self.data.get("note") or "").strip() if hasattr(self.data, "get") else ""
        notes = {"internal_note": "\n".join(n for n in ((data.get("internal_note") or "").strip(), legacy) if n)}
        if "citizen_note" in self.fields:
            notes["citizen_note"] = (data.get("citizen_note") or "").strip()
        return notes


class ActionForm(NotesMixin, forms.Form):
    """Every action form: the version the officer saw, the action's own fields, then both notes."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    citizen_note = citizen_note_field()
    internal_note = internal_note_field()
    # Actions whose citizen-facing text is the legally required reason: no second public note.
    reason_is_public = False

    def __init__(self, *args, dossier, **kwargs):
        self.dossier = dossier
        super().__init__(*args, **kwargs)
        if self.reason_is_public:
            del self.fields["citizen_note"]
        # The notes last, the internal one first (the default place to write).
        names = [n for n in self.fields if n not in ("internal_note", "citizen_note")]
        self.order_fields([*names, "internal_note", "citizen_note"])

    def service_kwargs(self):
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("internal_note", "citizen_note")}
        data["expected_version"] = data.pop("version")
        return {**data, **self.notes()}


class NoteForm(ActionForm):
    pass


class ReasonForm(ActionForm):
    reason_is_public = True
    reason = forms.CharField(
        label=_("Lý do (gửi công dân, hiển thị công khai)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PUBLIC_REASON_HELP,
    )


class OfficerSelect(forms.Select):
    """The officer list, each option naming its department (``data-department``) for handover.js."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-department"] = str(instance.department_id)
        return option


class HandOverForm(ActionForm):
    """Choosing the department narrows the officer list to its officers (dossiers/static/dossiers/handover.js);
    without JavaScript every officer is listed with their department and a mismatch is refused."""

    to_department = forms.ModelChoiceField(label=_("Chuyển đến phòng ban"), queryset=Department.objects.none())
    to_officer = forms.ModelChoiceField(
        label=_("Cán bộ xử lý"),
        queryset=Officer.objects.none(),
        required=False,
        help_text=_("Có thể để trống."),
        widget=OfficerSelect(attrs={"data-narrowed-by": "to_department"}),
    )

    class Media:
        js = ("dossiers/handover.js",)

    step_due = forms.DateField(
        label=_("Hạn của bước này"), required=False, widget=DATE_WIDGET, help_text=_("Mặc định là ngày hẹn trả.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_department"].queryset = Department.objects.filter(is_active=True)
        self.fields["to_officer"].queryset = Officer.objects.select_related("user", "department").filter(
            user__is_active=True
        )
        self.fields["to_officer"].label_from_instance = lambda o: f"{o.full_name} — {o.title} ({o.department})"

    def clean(self):
        cleaned = super().clean()
        officer, department = cleaned.get("to_officer"), cleaned.get("to_department")
        if officer and department and officer.department_id != department.pk:
            raise ValidationError(_("Cán bộ được chọn không thuộc phòng ban nhận hồ sơ."))
        return cleaned


class RequestSupplementForm(ActionForm):
    """Every missing paper at once, each with its reason (the rule: tell the citizen once, in writing)."""

    reason_is_public = True

    other_items = forms.CharField(
        label=_("Giấy tờ khác cần bổ sung"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Mỗi dòng một giấy tờ, dạng “Tên giấy tờ: lý do”."),
    )
    reason = forms.CharField(
        label=_("Ghi chú chung gửi công dân (hiển thị công khai)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=PUBLIC_REASON_HELP,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.component_fields = []
        for component in self.dossier.procedure.components.all():
            missing, reason = f"missing_{component.pk}", f"reason_{component.pk}"
            self.fields[missing] = forms.BooleanField(label=component.name, required=False)
            self.fields[reason] = forms.CharField(
                label=_("Lý do"), required=False, widget=forms.TextInput(attrs={"size": 60})
            )
            self.component_fields.append((component, missing, reason))
        # The checkboxes first, as the heading says; free text after them.
        self.order_fields(
            [name for _c, m, r in self.component_fields for name in (m, r)] + ["other_items", "reason", "internal_note"]
        )

    def clean(self):
        cleaned = super().clean()
        items = []
        for component, missing, reason in self.component_fields:
            if cleaned.get(missing):
                if not (cleaned.get(reason) or "").strip():
                    self.add_error(reason, _("Ghi lý do cần bổ sung giấy tờ này."))
                items.append(services.MissingItem(component.name, cleaned.get(reason) or ""))
        for line in (cleaned.get("other_items") or "").splitlines():
            if not line.strip():
                continue
            name, sep, why = line.partition(":")
            if not sep or not why.strip():
                self.add_error("other_items", _("Dòng “%s” thiếu lý do (dạng “Tên giấy tờ: lý do”).") % line.strip())
            items.append(services.MissingItem(name.strip(), why.strip()))
        if not items and not self.errors:
            raise ValidationError(_("Chọn hoặc ghi ít nhất một giấy tờ cần bổ sung."))
        cleaned["items"] = items
        return cleaned

    def service_kwargs(self):
        return {
            "items": self.cleaned_data["items"],
            "reason": self.cleaned_data.get("reason") or "",
            "expected_version": self.cleaned_data["version"],
            **self.notes(),
        }


class ReceiveSupplementForm(ActionForm):
    """Nhận hồ sơ bổ sung: what the open supplement request asked for, item by item, each with a tick
    and its number of copies. The ticked papers are recorded on the dossier. The citizen supplies
    everything asked, once: if an item is not ticked, nothing is received and the message names it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplement_request = (
            self.dossier.supplement_requests.filter(received_at=None)
            .order_by("-requested_at")
            .prefetch_related("items")
            .first()
        )
        items = list(self.supplement_request.items.all()) if self.supplement_request else []
        self.item_fields = []
        for item in items:
            tick, count = f"item_{item.pk}", f"count_{item.pk}"
            self.fields[tick] = forms.BooleanField(label=item.name, required=False)
            self.fields[count] = forms.IntegerField(
                label=_("Số bản: %s") % item.name, min_value=1, max_value=50, initial=1, required=False
            )
            kind = ""  # the service takes it from the procedure's list
            self.item_fields.append((item, kind, tick, count))
        names = [n for n in self.fields if n not in ("internal_note", "citizen_note")]
        self.order_fields([*names, "internal_note", "citizen_note"])

    checklist_template = "admin/dossiers/dossier/_supplement_checklist.html"

    @property
    def checklist_names(self):
        return [name for _i, _k, tick, count in self.item_fields for name in (tick, count)]

    def checklist(self):
        """Rows for the template: (what was asked, its tick, its number of copies)."""
        return [(item, self[tick], self[count]) for item, _k, tick, count in self.item_fields]

    def clean(self):
        # Whether everything asked was brought is the service's rule (`services.receive_supplement`).
        cleaned = super().clean()
        for _item, _kind, tick, count in self.item_fields:
            if not cleaned.get(tick):
                self._errors.pop(count, None)
            elif cleaned.get(count) is None and count not in self._errors:
                cleaned[count] = 1
        return cleaned

    def service_kwargs(self):
        kwargs = super().service_kwargs()
        for _item, _kind, tick, count in self.item_fields:
            kwargs.pop(tick, None)
            kwargs.pop(count, None)
        kwargs["components"] = [
            services.SubmittedComponent(item.name, kind, self.cleaned_data[count])
            for item, kind, tick, count in self.item_fields
            if self.cleaned_data.get(tick)
        ]
        return kwargs


class RequestFeesForm(ActionForm):
    amount = forms.IntegerField(label=_("Số tiền (đồng)"), min_value=1)


class PostponeForm(ActionForm):
    reason_is_public = True
    new_date = forms.DateField(label=_("Ngày hẹn trả mới"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Lý do chậm trả (gửi công dân, hiển thị công khai)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PUBLIC_REASON_HELP,
    )


class ResultForm(ActionForm):
    result = forms.CharField(
        label=_("Kết quả giải quyết"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Ví dụ: Giấy khai sinh số 123/2026."),
    )


class InternalNoteForm(ActionForm):
    """An action whose only text is for officers (a new QR receipt: the note may name the ID paper shown)."""

    reason_is_public = True  # no citizen note


def form_for(action_key: str) -> type[forms.Form]:
    """The admin form of an action: the class the registry (`workflow.REGISTRY`) names in this module."""
    return globals()[workflow.REGISTRY[action_key].form]


class ProcedureChoiceForm(forms.Form):
    procedure = forms.ModelChoiceField(
        label=_("Thủ tục"), queryset=Procedure.objects.filter(is_active=True).order_by("field", "name")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Official names can be hundreds of characters: keep the list readable on a narrow screen.
        self.fields["procedure"].label_from_instance = lambda p: (
            f"{p.field} · {p.code} — " + (p.name if len(p.name) <= 90 else p.name[:88].rstrip() + "…")
        )


class IntakeForm(NotesMixin, forms.Form):
    """Tiếp nhận hồ sơ tại quầy."""

    channel = forms.TypedChoiceField(label=_("Hình thức nộp"), choices=Channel.choices, coerce=int, initial=1)
    applicant_name = forms.CharField(label=_("Họ tên người nộp"), max_length=200)
    applicant_id_number = forms.CharField(label=_("Số CCCD/giấy tờ tùy thân"), max_length=20, required=False)
    applicant_phone = forms.CharField(
        label=_("Điện thoại"), max_length=20, required=False, help_text=_("Để nhận tin Zalo về hồ sơ.")
    )
    applicant_address = forms.CharField(label=_("Địa chỉ"), max_length=300, required=False)
    applicant_email = forms.EmailField(label=_("Thư điện tử"), required=False)
    internal_note = internal_note_field()
    citizen_note = citizen_note_field()

    def __init__(self, *args, procedure, **kwargs):
        self.procedure = procedure
        super().__init__(*args, **kwargs)
        # The procedure's list of papers as a checklist: a tick ("received") and the number of copies
        # per paper, the required ones ticked to start with and marked. Whether the required ones are all
        # there is the services' rule (a clear error, nothing written), not the form's.
        self.component_fields = []
        for component in procedure.components.all():
            tick, count = f"has_{component.pk}", f"count_{component.pk}"
            self.fields[tick] = forms.BooleanField(label=component.name, required=False, initial=component.required)
            self.fields[count] = forms.IntegerField(
                label=_("Số bản: %s") % component.name,
                min_value=1,
                max_value=50,
                initial=component.count or 1,
                required=False,
            )
            self.component_fields.append((component, tick, count))
        names = [n for n in self.fields if n not in ("internal_note", "citizen_note")]
        self.order_fields([*names, "internal_note", "citizen_note"])

    @property
    def checklist_names(self):
        return [name for _c, tick, count in self.component_fields for name in (tick, count)]

    def checklist(self):
        """Rows for the template: (component, its tick, its count)."""
        return [(c, self[tick], self[count]) for c, tick, count in self.component_fields]

    NOTE_FIELDS = ("internal_note", "citizen_note")

    def applicant_fields(self):
        skip = {*self.checklist_names, *self.NOTE_FIELDS}
        return [field for field in self.visible_fields() if field.name not in skip]

    def note_fields(self):
        return [self[name] for name in self.NOTE_FIELDS]

    def clean(self):
        cleaned = super().clean()
        for component, tick, count in self.component_fields:
            if not cleaned.get(tick):
                self._errors.pop(count, None)  # the number of a paper not received does not matter
            elif cleaned.get(count) is None and count not in self._errors:
                cleaned[count] = component.count or 1  # ticked with the number left empty: the usual number
        return cleaned

    def components(self):
        """The ticked papers, each with its number of copies."""
        return [
            services.SubmittedComponent(c.name, c.kind, self.cleaned_data[count])
            for c, tick, count in self.component_fields
            if self.cleaned_data.get(tick)
        ]

    def applicant(self):
        data = self.cleaned_data
        return services.Applicant(
            name=data["applicant_name"],
            id_number=data.get("applicant_id_number") or "",
            phone=data.get("applicant_phone") or "",
            address=data.get("applicant_address") or "",
            email=data.get("applicant_email") or "",
        )
