"""``{% dossier_result_list cl %}``: Django's ``{% result_list cl %}`` with the rows of dossiers.admin_rows."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_list
from django.contrib.admin.templatetags.base import InclusionAdminNode

from dossiers import admin_rows

register = template.Library()


def dossier_result_list(cl):
    """Django's result_list context (headers, hidden fields), its rows built at a fixed cost per row."""
    if not admin_rows.fast_path_applies(cl):  # an editable list, a popup…: Django's own, as it is
        return result_list(cl)
    context = result_list(_WithoutRows(cl))
    context["cl"] = cl
    context["results"] = admin_rows.rows(cl)
    return context


class _WithoutRows:
    """`cl` as result_list sees it, with no rows: the headers are Django's, the rows are built once, above."""

    def __init__(self, cl):
        self._cl = cl
        self.result_list = []
        self.formset = None

    def __getattr__(self, name):
        return getattr(self._cl, name)


@register.tag(name="dossier_result_list")
def dossier_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=dossier_result_list, template_name="change_list_results.html", takes_context=False
    )
