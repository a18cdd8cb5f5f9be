"""An approved template's parameters as Zalo holds them (``GET /template/info/v2?template_id=``).

Answer ``data.{templateId, templateName, status, listParams: [{name, require, type, maxLength,
minLength, acceptNull}]}`` (Zalo's ZNS API; not in docs/zalo-api.md, shape confirmed by several
public integrations). Used when a province registers a template (zalo.admin_templates) to catch
parameters that do not match the approved template.
"""

from typing import Any

from . import accounts

TEMPLATE_INFO_PATH = "/template/info/v2"


def fetch(template_id: str) -> dict[str, Any]:
    """Zalo's ``data`` for this template; raises a zalo.errors.ZaloError (−109: no such template) or
    accounts.NotConfigured."""
    client = accounts.client()

    def call(token):
        # ZaloClient has no method for this endpoint yet; its transport, headers and error mapping are reused.
        headers = client._auth_headers(token)
        url = client.business_base_url + TEMPLATE_INFO_PATH
        response = client._transport_call(
            "GET", url, TEMPLATE_INFO_PATH, params={"template_id": template_id}, headers=headers
        )
        return client._api_result(response, TEMPLATE_INFO_PATH)

    data = accounts.call_with_token(call)
    return data if isinstance(data, dict) else {}
