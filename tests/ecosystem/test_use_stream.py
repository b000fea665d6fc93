"""``useStream`` (``@langchain/langgraph-sdk/react``) in a real headless Chromium against
``lg-deploy dev``: the page of ``js/page`` (React, bundled with esbuild, served from its own
origin) submits a message and shows the tokens as they stream, stops at an interrupt and
resumes it as agent-chat-ui does, and after a reload rejoins the run still streaming
(``reconnectOnMount``). On a server requiring API keys, the credential a chat UI hands
``useStream`` (``apiKey``, or ``defaultHeaders`` with ``Authorization: Bearer``) carries every
request of the page, cross-origin, and the thread is the key's tenant's.

Playwright (Python, pinned in pyproject) drives Debian's Chromium (``tests/infra/chromium.sh``
installs it); it never downloads a browser of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

from tests.ecosystem.conftest import LlmStub
from tests.ecosystem.js.support import (
    CHROMIUM_ARGS,
    KeyedServer,
    build_page,
    chromium,
    graph_server,
    keyed_server,
    node_deps,
    static_site,
)

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the bundled test page, on its own origin."""
    folder = build_page(node_deps(), tmp_path_factory.mktemp("page"))
    with static_site(folder) as url:
        yield url


@pytest.fixture(scope="module")
def api(llm_stub: LlmStub) -> Iterator[str]:
    """URL of the server the page talks to."""
    with graph_server("ecojs-page", llm_stub.env) as url:
        yield url


@pytest.fixture(scope="module")
def keyed(llm_stub: LlmStub) -> Iterator[KeyedServer]:
    """A server requiring API keys, with two tenants (started for the tests that ask)."""
    with keyed_server("ecojs-page-keys", llm_stub.env) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright."""
    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Chat:
    """The test page in one fresh browser context, with the run requests it sent."""

    def __init__(self, page: Page, site: str, api: str) -> None:
        self.page = page
        self.site = site
        self.api = api
        self.exchanges: list[str] = []
        self.problems: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("requestfinished", self._record)
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def _record(self, request: Request) -> None:
        if request.method != "POST" or "/runs" not in request.url:
            return
        response = request.response()
        status = response.status if response else "-"
        body = response.text() if response and response.status >= 400 else ""
        self.exchanges.append(f"POST {request.url} {request.post_data}\n  -> {status} {body}")

    def open(self, assistant: str, **params: str) -> None:
        query = urlencode({"api": self.api, "assistant": assistant, **params})
        self.page.goto(f"{self.site}/index.html?{query}")
        self.page.wait_for_selector("#send")

    def send(self, text: str) -> None:
        self.page.fill("#draft", text)
        self.page.click("#send")

    def status(self) -> str:
        return self.page.inner_text("#status")

    def wait_idle(self) -> None:
        self.page.wait_for_function("document.querySelector('#status').textContent === 'idle'")

    def ai_texts(self) -> list[str]:
        """Each distinct text the last AI message showed since the page (re)loaded."""
        return list(self.page.evaluate("window.__aiTexts"))

    def messages(self) -> list[tuple[str, str]]:
        """``(type, text)`` of every message the page shows."""
        items = self.page.locator("#messages li")
        return [
            (items.nth(i).get_attribute("data-type") or "", items.nth(i).inner_text())
            for i in range(items.count())
        ]

    def thread_id(self) -> str:
        return self.page.inner_text("#thread")

    def report(self) -> str:
        """What went wrong, for an assertion message: the page's error line, page errors and
        the run requests the SDK sent with the server's answers."""
        error_line = f"page error line: {self.page.inner_text('#error')!r}"
        return "\n".join([error_line, *self.problems, "run requests:", *self.exchanges])


@pytest.fixture
def chat(browser: Browser, site: str, api: str) -> Iterator[Chat]:
    """The page in a fresh context (own sessionStorage)."""
    context = browser.new_context()
    try:
        yield Chat(context.new_page(), site, api)
    finally:
        context.close()


@pytest.fixture
def keyed_chat(browser: Browser, site: str, keyed: KeyedServer) -> Iterator[Chat]:
    """The page in a fresh context, talking to :func:`keyed`."""
    context = browser.new_context()
    try:
        yield Chat(context.new_page(), site, keyed.url)
    finally:
        context.close()


def _words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def _runs(api: str, thread_id: str) -> list[dict[str, object]]:
    return list(httpx.get(f"{api}/threads/{thread_id}/runs", timeout=10).json())


def test_tokens_stream_into_the_page(chat: Chat) -> None:
    """A submitted message's answer grows in the page token by token, then the page is idle
    with the whole text."""
    text = _words(20)
    chat.open("slow")
    chat.send(f"SAY {text}")
    chat.wait_idle()
    seen = chat.ai_texts()
    assert seen and seen[-1] == text, chat.report()
    assert len(seen) >= 5, f"the answer appeared in {len(seen)} steps: {seen}"
    assert all(b.startswith(a) and len(b) > len(a) for a, b in pairwise(seen)), seen
    assert chat.messages() == [("human", f"SAY {text}"), ("ai", text)]


@pytest.mark.parametrize(
    "resume_input",
    [
        # agent-chat-ui's resume: submit({}, { command: { resume } }) sends "input": {}
        pytest.param("empty", id="submit-empty-input"),
        # the SDK documentation's form: submit(undefined, { command: { resume } })
        pytest.param("none", id="submit-undefined-input"),
    ],
)
def test_interrupt_is_shown_and_resumed_from_the_page(chat: Chat, resume_input: str) -> None:
    """A human-in-the-loop agent stops at its interrupt; the page shows the request, and the
    approval sent with ``submit(..., {command: {resume}})`` finishes the run."""
    chat.open("approval", resumeInput=resume_input)
    chat.send('CALL refund {"order": "A-7", "amount": 12.5}\nSAY refund sent')
    chat.page.wait_for_selector("#interrupt")
    request = json.loads(chat.page.inner_text("#interrupt pre"))
    assert [(a["name"], a["args"]) for a in request["action_requests"]] == [
        ("refund", {"order": "A-7", "amount": 12.5})
    ]
    chat.page.click("#approve")
    chat.page.wait_for_function(
        "document.querySelector('#error').textContent !== '' || "
        "[...document.querySelectorAll('#messages li')].at(-1)?.textContent === 'refund sent'"
    )
    chat.wait_idle()
    assert chat.page.inner_text("#error") == "", chat.report()
    assert chat.page.locator("#interrupt").count() == 0
    assert chat.messages()[-2:] == [("tool", "refunded 12.50 on A-7"), ("ai", "refund sent")]


def test_reload_rejoins_the_running_stream(chat: Chat, api: str) -> None:
    """Reloading the page in the middle of a long answer rejoins the same run
    (``reconnectOnMount``: the run id kept in sessionStorage) and the page streams the rest."""
    text = _words(60)  # 6 s at the slow graph's 0.1 s a token
    chat.open("slow")
    chat.send(f"SAY {text}")
    chat.page.wait_for_function("window.__aiTexts.length >= 5")
    thread_id = chat.thread_id()
    stored = chat.page.evaluate(f"sessionStorage.getItem('lg:stream:{thread_id}')")
    assert stored, "useStream kept the run id for a rejoin"

    chat.page.reload()
    chat.page.wait_for_selector("#send")
    assert chat.thread_id() == thread_id, "the page stays on its thread"
    chat.page.wait_for_function(f"window.__aiTexts.at(-1) === {json.dumps(text)}")
    chat.wait_idle()
    after = chat.ai_texts()
    assert len(after) >= 5 and len(after[0]) < len(text), (
        f"after the reload the answer did not stream on: {after}\n{chat.report()}"
    )
    assert chat.messages() == [("human", f"SAY {text}"), ("ai", text)]
    assert chat.page.evaluate(f"sessionStorage.getItem('lg:stream:{thread_id}')") is None
    runs = _runs(api, thread_id)
    assert [(r["run_id"], r["status"]) for r in runs] == [(stored, "success")], runs


@pytest.mark.parametrize("credential", ["apiKey", "bearer"])
def test_a_keyed_server_streams_to_a_page_with_its_key(
    keyed_chat: Chat, keyed: KeyedServer, credential: str
) -> None:
    """``useStream({apiKey})`` (sent as ``x-api-key``) or ``useStream({defaultHeaders:
    {Authorization: "Bearer …"}})`` on a server requiring keys: the answer streams into the
    page, and the thread and its run are the key's tenant's (404 for the other tenant)."""
    text = _words(10)
    keyed_chat.open("slow", **{credential: keyed.keys["a"]})
    keyed_chat.send(f"SAY {text}")
    keyed_chat.wait_idle()
    seen = keyed_chat.ai_texts()
    assert seen and seen[-1] == text, keyed_chat.report()
    assert len(seen) >= 3, f"the answer appeared in {len(seen)} steps: {seen}"
    thread_id = keyed_chat.thread_id()

    def runs(key: str) -> httpx.Response:
        url = f"{keyed.url}/threads/{thread_id}/runs"
        return httpx.get(url, headers={"X-Api-Key": key}, timeout=10)

    assert [r["status"] for r in runs(keyed.keys["a"]).json()] == ["success"]
    assert runs(keyed.keys["b"]).status_code == 404


def test_a_page_without_a_key_shows_the_401(keyed_chat: Chat) -> None:
    """Without a credential the server's 401 and its JSON detail reach the page (CORS on
    refusals too) as ``useStream``'s error; no thread is made and nothing is answered."""
    keyed_chat.open("slow")
    keyed_chat.send("SAY never")
    keyed_chat.page.wait_for_function("document.querySelector('#error').textContent !== ''")
    error = keyed_chat.page.inner_text("#error")
    assert error.startswith('HTTP 401: {"detail":'), keyed_chat.report()
    assert keyed_chat.thread_id() == ""
    assert keyed_chat.ai_texts() == []
