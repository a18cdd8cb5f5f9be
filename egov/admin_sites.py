"""Two admin sites: the national one on the public domain and each province's own.

The national site manages provinces and the national superusers; a province's site manages that
province's officers and work. Keeping them apart means a model registered for one schema never
shows up (and fails) on the other.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class NationalAdminSite(admin.AdminSite):
    site_header = _("Một Cửa — quản trị quốc gia")
    site_title = _("Một Cửa — quản trị quốc gia")
    index_title = _("Quản lý các tỉnh, thành phố")


national_admin_site = NationalAdminSite(name="national_admin")

admin.site.site_header = _("Một Cửa — bộ phận một cửa")
admin.site.site_title = _("Một Cửa")
admin.site.index_title = _("Bảng điều khiển của tỉnh")
