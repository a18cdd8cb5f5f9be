"""Admin forms: each action's form collects input and hands it to the matching service."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from offices.models import Department, Officer

from . import services
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


class HandOverForm(ActionForm):
    to_department = forms.ModelChoiceField(label=_("Chuyển đến phòng ban"), queryset=Department.objects.none())
    to_officer = forms.ModelChoiceField(
        label=_("Cán bộ xử lý"), queryset=Officer.objects.none(), required=False, help_text=_("Có thể để trống.")
    )
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


ACTION_FORMS = {
    "accept": NoteForm,
    "refuse": ReasonForm,
    "hand_over": HandOverForm,
    "request_supplement": RequestSupplementForm,
    "receive_supplement": NoteForm,
    "request_fees": RequestFeesForm,
    "record_fees_paid": NoteForm,
    "postpone": PostponeForm,
    "stop": ReasonForm,
    "mark_result_ready": ResultForm,
    "return_result": NoteForm,
    "withdraw": ReasonForm,
}


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
        self.component_fields = []
        for component in procedure.components.all():
            name = f"count_{component.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{component.name} ({component.get_kind_display()})",
                min_value=0,
                max_value=50,
                initial=component.count if component.required else 0,
                required=False,
                help_text=_("bắt buộc") if component.required else _("nếu có"),
            )
            self.component_fields.append((component, name))
        names = [n for n in self.fields if n not in ("internal_note", "citizen_note")]
        self.order_fields([*names, "internal_note", "citizen_note"])

    def components(self):
        return [
            services.SubmittedComponent(c.name, c.kind, self.cleaned_data.get(field) or 0)
            for c, field in self.component_fields
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
