from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from dossiers.text import fold

from .validators import validate_admin_code, validate_agency_code, validate_slug


class Province(TenantMixin):
    """A province (tỉnh/thành phố) running its own one-stop-shop: one PostgreSQL schema.

    The public schema itself is represented by a row with schema_name "public".
    """

    name = models.CharField(_("tên"), max_length=120)
    slug = models.CharField(_("mã ngắn"), max_length=40, unique=True, validators=[validate_slug])
    agency_code = models.CharField(
        _("mã định danh cơ quan"),
        max_length=20,
        blank=True,
        validators=[validate_agency_code],
        help_text=_("Theo QCVN 102:2016/BTTTT, ví dụ 000.00.01.H20; là tiền tố của mã hồ sơ."),
    )
    admin_code = models.PositiveSmallIntegerField(
        _("mã đơn vị hành chính"),
        null=True,
        blank=True,
        validators=[validate_admin_code],
        help_text=_("Mã tỉnh theo danh mục hành chính hiện hành (ví dụ Đà Nẵng 48)."),
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    # Set by `merge_province` (provinces/merging.py) once everything moved: the schema is kept,
    # read-only (its tables refuse writes), until a person drops it; its domains serve the target.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_provinces",
        verbose_name=_("đã sáp nhập vào"),
    )
    merged_at = models.DateTimeField(_("sáp nhập lúc"), null=True, blank=True)
    # Name, slug and agency code folded (lower case, no diacritics; kept by save()): the national
    # list's search ("da nang" finds "Thành phố Đà Nẵng") is a LIKE on the trigram index below.
    search_text = models.TextField(editable=False, default="")

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("tỉnh, thành phố")
        verbose_name_plural = _("tỉnh, thành phố")
        ordering = ["name"]
        indexes = [GinIndex(OpClass(models.F("search_text"), name="gin_trgm_ops"), name="province_search_trgm")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = fold(f"{self.name} {self.slug} {self.agency_code}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """A copy of the migrated template schema (provinces/schemas.py) instead of every migration."""
        from django_tenants.utils import schema_exists

        from .schemas import create_schema_from_template, template_enabled

        if not (sync_schema and template_enabled()):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        create_schema_from_template(self.schema_name, verbosity=max(verbosity - 1, 0))
        return True

    @property
    def is_public(self):
        from django_tenants.utils import get_public_schema_name

        return self.schema_name == get_public_schema_name()


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("tên miền")
        verbose_name_plural = _("tên miền")

    def __str__(self):
        return self.domain
