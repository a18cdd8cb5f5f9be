"""An approved template's parameters as Zalo holds them (``GET /template/info/v2?template_id=``).

Answer ``data.{templateId, templateName, status, listParams: [{name, require, type, maxLength,
minLength, acceptNull}]}`` (Zalo's ZNS API; not in docs/zalo-api.md, shape confirmed by several
public integrations). Used when a province registers a template (zalo.admin_templates) to catch
parameters that do not match the approved template.
"""

from typing import Any

from . import accounts


def fetch(template_id: str) -> dict[str, Any]:
    """Zalo's ``data`` for this template; raises a zalo.errors.ZaloError (−109: no such template) or
    accounts.NotConfigured."""
    client = accounts.client()
    data = accounts.call_with_token(lambda token: client.template_info(token, template_id))
    return data if isinstance(data, dict) else {}
