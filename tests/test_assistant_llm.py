"""The optional language model, against a local server scripted to speak the OpenAI chat-completions API:
tool calls, errors, slow replies, replies that cite nothing or invent a code or figure."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from casepilot_kit import casepilot_small  # noqa: F401 (fixture)
from fixtures.gate.sitekit import client, settings_for

from gate.app import create_app
from gate.assistant import CasePilot
from gate.assistant.llm import ModelSettings
from generator.assistant_facts import facts_path
from generator.config import SiteConfig

GOOD = "E11.9 is Type 2 diabetes mellitus without complications, and it is billable (/icd-10-cm/E11.9/)."


class Script:
    mode = "good"
    requests: ClassVar[list[dict[str, Any]]] = []
    headers: ClassVar[list[dict[str, str]]] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        Script.requests.append(body)
        Script.headers.append(dict(self.headers))
        mode = Script.mode
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": "no such path"})
        if mode == "error":
            return self._send(500, {"error": {"message": "model crashed"}})
        if mode == "slow":
            time.sleep(3.5)
        if mode == "garbage":
            return self._raw(200, b"<html>not json</html>")
        tool_msgs = [m for m in body["messages"] if m.get("role") == "tool"]
        if not tool_msgs and mode != "no_tool":
            name = "other_tool" if mode == "unknown_tool" else "coderef_lookup"
            return self._send(
                200,
                {
                    "id": "c1",
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": None,
                                "tool_calls": [
                                    {
                                        "id": "call_1",
                                        "type": "function",
                                        "function": {
                                            "name": name,
                                            "arguments": json.dumps(
                                                {"question": body["messages"][-1]["content"]}
                                            ),
                                        },
                                    }
                                ],
                            },
                            "finish_reason": "tool_calls",
                        }
                    ],
                },
            )
        content = {
            "good": GOOD,
            "slow": GOOD,
            "no_tool": GOOD,
            "no_cite": "E11.9 is Type 2 diabetes mellitus without complications.",
            "invent_code": "E11.9 is billable; also report E11.99 (/icd-10-cm/E11.9/).",
            "invent_figure": "E11.9 is billable and Medicare pays $123.45 for it (/icd-10-cm/E11.9/).",
        }[mode]
        return self._send(
            200,
            {
                "id": "c2",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
            },
        )

    def _send(self, status: int, data: dict[str, Any]) -> None:
        self._raw(status, json.dumps(data).encode())

    def _raw(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def pilot(casepilot_small: Path, model_url: str) -> Iterator[CasePilot]:  # noqa: F811
    Script.requests.clear()
    Script.headers.clear()
    settings = ModelSettings.from_env(
        {
            "CODEREF_ASSISTANT_LLM_URL": model_url,
            "CODEREF_ASSISTANT_LLM_MODEL": "local-test",
            "CODEREF_ASSISTANT_LLM_KEY": "sk-test",
        }
    )
    p = CasePilot(facts_path(SiteConfig(root=casepilot_small)), settings)
    yield p
    p.close()


def test_tool_call_protocol_and_accepted_answer(pilot: CasePilot) -> None:
    Script.mode = "good"
    a = pilot.answer("What is E11.9?")
    assert a.model == "local-test" and a.text == GOOD
    assert '<a href="/icd-10-cm/E11.9/">/icd-10-cm/E11.9/</a>' in a.html
    assert [c.url for c in a.citations] == ["/icd-10-cm/E11.9/"]
    first, second = Script.requests
    assert first["model"] == "local-test" and first["tools"][0]["function"]["name"] == "coderef_lookup"
    assert first["messages"][-1] == {"role": "user", "content": "What is E11.9?"}
    tool = second["messages"][-1]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_1"
    result = json.loads(tool["content"])
    assert "Type 2 diabetes mellitus without complications" in result["answer"]
    assert result["citations"][0]["url"] == "/icd-10-cm/E11.9/"
    assert Script.headers[0]["Authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    "mode", ["error", "garbage", "no_cite", "invent_code", "invent_figure", "unknown_tool"]
)
def test_bad_model_replies_fall_back_to_the_deterministic_answer(pilot: CasePilot, mode: str) -> None:
    Script.mode = mode
    a = pilot.answer("What is E11.9?")
    assert a.model is None
    assert "E11.9 — Type 2 diabetes mellitus without complications" in a.text
    assert Script.requests, "the model was asked"


def test_a_model_answer_without_calling_the_tool_is_still_checked(pilot: CasePilot) -> None:
    Script.mode = "no_tool"
    a = pilot.answer("What is E11.9?")
    assert a.model == "local-test" and len(Script.requests) == 1


def test_a_slow_model_times_out_after_3_seconds(pilot: CasePilot) -> None:
    Script.mode = "slow"
    started = time.monotonic()
    a = pilot.answer("What is E11.9?")
    assert a.model is None and time.monotonic() - started < 3.4


def test_the_gate_uses_the_model_asynchronously(
    casepilot_small: Path,  # noqa: F811
    model_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "proj"
    shutil.copytree(casepilot_small, root, symlinks=True)
    Script.mode = "good"
    monkeypatch.setenv("CODEREF_ASSISTANT_LLM_URL", model_url)
    monkeypatch.setenv("CODEREF_ASSISTANT_LLM_MODEL", "local-test")
    with client(create_app(root, settings=settings_for(root))) as c:
        body = c.post("/gate/ask", json={"question": "What is E11.9?"}).json()
    assert body["model"] == "local-test" and body["answer"]["text"] == GOOD


def test_settings_need_a_model_name_and_an_http_url() -> None:
    assert ModelSettings.from_env({}) is None
    with pytest.raises(ValueError, match="MODEL"):
        ModelSettings.from_env({"CODEREF_ASSISTANT_LLM_URL": "http://127.0.0.1:1/v1"})
    with pytest.raises(ValueError, match="http"):
        ModelSettings.from_env({"CODEREF_ASSISTANT_LLM_URL": "ftp://x", "CODEREF_ASSISTANT_LLM_MODEL": "m"})
    s = ModelSettings.from_env(
        {"CODEREF_ASSISTANT_LLM_URL": "http://h/v1/", "CODEREF_ASSISTANT_LLM_MODEL": "m"}
    )
    assert s is not None and s.endpoint == "http://h/v1/chat/completions" and s.timeout == 3.0
    assert "sk" not in repr(s.key)
