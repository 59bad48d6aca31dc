"""The fake Slack Web API the Slack tests talk to (tests/support/slack.py) answers like Slack."""

from __future__ import annotations

import pytest

from tests.support.slack import FakeSlack, LoopThread


def test_the_fake_answers_like_slack_and_fails_on_request() -> None:
    loop, fake = LoopThread(), FakeSlack()
    try:
        loop.run(fake.start())
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        posted = client.chat_postMessage(channel="finance", text="hi")
        assert posted["channel"] == "CFINANCE" and posted["ts"]
        assert client.users_info(user="U0DANA")["user"]["profile"]["email"] == "dana.reyes@example.com"
        fake.fail_next("chat.postMessage", 429)
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="finance", text="again")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers.get("retry-after") == ["1"] or caught.value.response.headers.get(
            "Retry-After"
        ) in ("1", ["1"])
        assert [c.status for c in fake.made("chat.postMessage", status=None)] == [200, 429]
    finally:
        loop.run(fake.stop())
        loop.close()
