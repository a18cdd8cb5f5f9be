"""The review panel on the dossier's admin page: ``{% supplement_review_panel %}``, placed by
templates/admin/dossiers/dossier/change_form.html."""

from django import template
from django.urls import reverse

from dossiers import selectors

from ..admin import review_state

register = template.Library()


def officer_file_url(file) -> str:
    """The permission-checked, audited view that serves a file to officers (supplements.views)."""
    return reverse("supplement-file", args=[file.pk])


@register.inclusion_tag("admin/supplements/review_panel.html", takes_context=True)
def supplement_review_panel(context):
    dossier = context.get("dossier")
    request = context.get("request")
    if dossier is None or request is None:
        return {"review": None}
    review = review_state(dossier, selectors.officer_of(request.user))
    if review is not None:
        for entry in [*review["items"], {"files": review["unassigned"]}]:
            for file in entry["files"]:
                file.view_url = officer_file_url(file)
                file.thumb_url = f"{file.view_url}?size=thumb"
                file.is_image = file.content_type.startswith("image/")
    return {"review": review, "dossier": dossier}
