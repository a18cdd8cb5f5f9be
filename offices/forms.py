"""The officers' login form (password + TOTP code) and the account forms of the admin pages."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

from .roles import ROLES
from .security import confirmed_device, throttled, verify_code


class OfficerLoginForm(AdminAuthenticationForm):
    """Username, password and, once the account has an authenticator, its current 6-digit code.

    A wrong code counts as a failed login for django-axes, like a wrong password, so the code
    cannot be guessed either; a code already used once is refused (django-otp's `last_t`).
    """

    otp_token = forms.CharField(
        label=_("Mã xác thực (6 số)"),
        required=False,
        max_length=10,
        help_text=_("Mã trên ứng dụng xác thực (Google Authenticator, Microsoft Authenticator…), nếu đã đăng ký."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "otp_required": _("Tài khoản này dùng xác thực hai bước: hãy nhập mã 6 số trên ứng dụng xác thực."),
        "otp_invalid": _("Mã xác thực không đúng hoặc đã được dùng. Hãy đợi mã mới rồi nhập lại."),
        "otp_throttled": _("Nhập sai mã xác thực nhiều lần: hãy đợi ít giây rồi thử lại với mã mới."),
    }

    def clean(self):
        cleaned = super().clean()  # the password (django-axes refuses a locked username or address first)
        user = self.user_cache
        if user is None:
            return cleaned
        device = confirmed_device(user)
        if device is None:
            return cleaned  # no authenticator yet: admins and leaders are sent to enrol right after login
        token = (cleaned.get("otp_token") or "").strip()
        if not token:
            raise forms.ValidationError(self.error_messages["otp_required"], code="otp_required")
        if throttled(device):
            self._second_factor_failed(user)
            raise forms.ValidationError(self.error_messages["otp_throttled"], code="otp_throttled")
        verified = verify_code(device, token)
        if verified is None:
            self._second_factor_failed(user)
            raise forms.ValidationError(self.error_messages["otp_invalid"], code="otp_invalid")
        # django-otp's user_logged_in receiver marks the new session as verified by this device.
        user.otp_device = verified
        return cleaned

    def _second_factor_failed(self, user):
        user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)


class EnrolForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Mã 6 số đang hiện trên ứng dụng"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )


class NewPasswordForm(forms.Form):
    new_password1 = forms.CharField(
        label=_("Mật khẩu mới"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("Nhập lại mật khẩu mới"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password1") != cleaned.get("new_password2"):
            raise forms.ValidationError(_("Hai lần nhập mật khẩu không khớp nhau."))
        return cleaned


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Vai trò"),
        required=False,
        choices=[(role.key, role.label) for role in ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Cấp vai trò “Quản trị tỉnh” cần quản trị quốc gia hoặc một quản trị tỉnh khác duyệt."),
    )


class RequestForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
