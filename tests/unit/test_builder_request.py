"""The build request CloudEvent: its type and data are checked before anything is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from cloudevents.core.v1.event import CloudEvent

from shared.builds.models import BuildRequest, parse_build_event
from shared.cloud_events.http import InvalidEvent

BUILD = "dev.lgdeploy.build.requested"


def event(data: Any, type_: str = BUILD) -> CloudEvent:
    """A CloudEvent of ``type_`` carrying ``data``."""
    attributes = {"type": type_, "source": "/tests", "datacontenttype": "application/json"}
    return CloudEvent(attributes=attributes, data=data)


def test_ref_and_config_have_defaults() -> None:
    assert parse_build_event(event({"repo": "https://example.com/a.git"})) == BuildRequest(
        repo="https://example.com/a.git", ref="HEAD", config="langgraph.json"
    )


def test_data_may_arrive_as_json_text() -> None:
    request = parse_build_event(event('{"repo": "/srv/a", "ref": "v1.2", "config": "x/lg.json"}'))
    assert (request.repo, request.ref, request.config) == ("/srv/a", "v1.2", "x/lg.json")


def test_another_type_is_refused() -> None:
    with pytest.raises(InvalidEvent, match=r"'dev.lgdeploy.run.requested' is not accepted"):
        parse_build_event(event({"repo": "/srv/a"}, type_="dev.lgdeploy.run.requested"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "repo: Field required"),
        ("{not json", "not JSON"),
        (["/srv/a"], "must be a JSON object"),
        ({"repo": "/srv/a", "branch": "main"}, "branch: Extra inputs are not permitted"),
        ({"repo": ""}, "repo: String should have at least 1 character"),
        ({"repo": "--upload-pack=touch /tmp/x"}, "repo: Value error"),
        ({"repo": "/srv/a b"}, "repo: Value error"),
        ({"repo": "/srv/a", "ref": "-x"}, "ref: Value error"),
        ({"repo": "/srv/a", "ref": "HEAD~1"}, "ref: Value error"),
        ({"repo": "/srv/a", "ref": "a..b"}, "ref: Value error"),
        ({"repo": "/srv/a", "ref": "main.lock"}, "ref: Value error"),
        ({"repo": "/srv/a", "config": "/etc/langgraph.json"}, "config: Value error"),
        ({"repo": "/srv/a", "config": "../langgraph.json"}, "config: Value error"),
        ({"repo": "/srv/a", "config": "a\\langgraph.json"}, "config: Value error"),
    ],
)
def test_bad_data_is_refused_with_the_field(data: Any, expected: str) -> None:
    with pytest.raises(InvalidEvent, match="invalid build request data") as caught:
        parse_build_event(event(data))
    assert expected in str(caught.value)
