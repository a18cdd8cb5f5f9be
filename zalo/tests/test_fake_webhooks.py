"""The fake's webhook delivery as Zalo does it (docs/zalo-api.md "Webhook delivery").

The fault: the portal answers an event with an error. The fake retries it, and each retry says so with
a ``num_retry`` header (the first delivery has none), so the portal can tell a retry from a new event.
"""

import json

import pytest

from testing.zalo import OA_ID, WebhookReceiver, start_env


@pytest.fixture
def receiver():
    rec = WebhookReceiver(status=503)
    yield rec
    rec.close()


def test_a_refused_event_is_retried_with_num_retry(receiver):
    env = start_env(webhook_url=receiver.url, webhook_retries=1)
    try:
        env.control("POST", "/_fake/follow", {"user_id": "nr-1"})
        first_headers, first_body = receiver.wait_for(lambda event: event["event_name"] == "follow")
        assert "num_retry" not in first_headers
        receiver.status = 200
        receiver.wait_for(lambda event: event["event_name"] == "follow" and len(receiver.calls) > 1)
        retry_headers, retry_body = receiver.calls[1]
        assert retry_headers["num_retry"] == "1"
        assert retry_body == first_body  # the same event, byte for byte (same signature)
        assert json.loads(retry_body)["oa_id"] == OA_ID
    finally:
        env.close()
