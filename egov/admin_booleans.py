"""The admin's yes/no icons say "Có"/"Không" to a screen reader, not "True"/"False".

Django's ``admin_list._boolean_icon`` writes the Python value into the icon's alt text; every
caller (changelists, read-only fields) looks the function up in that module when it runs, so
replacing it there at start-up (``egov.apps.AdminConfig.ready``) translates them all.
"""

from django.contrib.admin.templatetags import admin_list
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

ICONS = {True: ("yes", _("Có")), False: ("no", _("Không")), None: ("unknown", _("Không rõ"))}


def boolean_icon(field_val):
    icon, text = ICONS[field_val]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), text)


def install():
    admin_list._boolean_icon = boolean_icon
