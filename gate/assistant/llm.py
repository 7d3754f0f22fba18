"""Optional: a language model (OpenAI-compatible chat completions) phrases the deterministic answer.

Off unless CODEREF_ASSISTANT_LLM_URL and CODEREF_ASSISTANT_LLM_MODEL are set; then nothing else
leaves the machine either. The model gets the question and one tool, `coderef_lookup`, whose
result is the deterministic answer (its text and citations). Its reply is used only when it cites
at least one of those citations and states no code or figure that the tool result does not hold;
any error, a reply that fails the checks, or the time limit (3 s by default) gives the
deterministic answer instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from html import escape
from typing import TYPE_CHECKING, Any

import httpx
from starlette.datastructures import Secret

from .claims import unsupported

if TYPE_CHECKING:
    from .answer import Answer

log = logging.getLogger("coderef.assistant")

TOOL = {
    "type": "function",
    "function": {
        "name": "coderef_lookup",
        "description": "Look the question up in coderef's official code-set and CMS data. Returns the facts "
        "and the pages they come from. Answer only from its result.",
        "parameters": {
            "type": "object",
            "properties": {"question": {"type": "string"}},
            "required": ["question"],
        },
    },
}
SYSTEM = (
    "You are CasePilot, a medical coding assistant. Call coderef_lookup, then answer in a few plain "
    "sentences "
    "using only the facts it returns. Never state a code, amount or date that the result does not contain. "
    "Cite the pages you used by their URL in parentheses."
)


@dataclass(frozen=True)
class ModelSettings:
    url: str
    model: str
    key: Secret
    timeout: float = 3.0

    @property
    def endpoint(self) -> str:
        u = self.url.rstrip("/")
        return u if u.endswith("/chat/completions") else u + "/chat/completions"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ModelSettings | None:
        """CODEREF_ASSISTANT_LLM_URL, _MODEL, _KEY (optional), _TIMEOUT (seconds, default 3)."""
        env = os.environ if environ is None else environ
        url = env.get("CODEREF_ASSISTANT_LLM_URL", "").strip()
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError("CODEREF_ASSISTANT_LLM_URL must be an http(s) URL of an OpenAI-compatible API")
        model = env.get("CODEREF_ASSISTANT_LLM_MODEL", "").strip()
        if not model:
            raise ValueError(
                "CODEREF_ASSISTANT_LLM_MODEL must name the model when CODEREF_ASSISTANT_LLM_URL is set"
            )
        raw = env.get("CODEREF_ASSISTANT_LLM_TIMEOUT", "3").strip() or "3"
        try:
            timeout = float(raw)
        except ValueError:
            raise ValueError(f"CODEREF_ASSISTANT_LLM_TIMEOUT={raw!r} is not a number of seconds") from None
        if not 0 < timeout <= 60:
            raise ValueError("CODEREF_ASSISTANT_LLM_TIMEOUT must be between 0 and 60 seconds")
        return cls(url, model, Secret(env.get("CODEREF_ASSISTANT_LLM_KEY", "")), timeout)


class ModelRejected(Exception):
    """The model's reply cannot be used (the message says why)."""


class ModelClient:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._async: httpx.AsyncClient | None = None

    def _headers(self) -> dict[str, str]:
        key = str(self.settings.key)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _tool_result(self, base: Answer) -> str:
        return json.dumps({"answer": base.text, "citations": [c.as_json() for c in base.citations]})

    def _first(self, question: str) -> dict[str, Any]:
        return {
            "model": self.settings.model,
            "temperature": 0,
            "tools": [TOOL],
            "tool_choice": "auto",
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
        }

    def _second(self, first: dict[str, Any], reply: dict[str, Any], base: Answer) -> dict[str, Any] | None:
        """The follow-up request with the tool results, or None when the model answered without calling."""
        msg = _message(reply)
        calls = msg.get("tool_calls") or []
        if not calls:
            return None
        messages = [*first["messages"], msg]
        for call in calls:
            if not isinstance(call, dict) or call.get("function", {}).get("name") != "coderef_lookup":
                raise ModelRejected(f"the model called an unknown tool: {str(call)[:80]}")
            messages.append(
                {"role": "tool", "tool_call_id": call.get("id", ""), "content": self._tool_result(base)}
            )
        return {**first, "messages": messages, "tool_choice": "none"}

    def _accept(self, reply: dict[str, Any], base: Answer) -> Answer:
        content = _message(reply).get("content")
        if not isinstance(content, str) or not content.strip():
            raise ModelRejected("the model gave no text")
        text = content.strip()
        if not any(c.url in text for c in base.citations):
            raise ModelRejected("the model's answer cites none of the sources")
        evidence = self._tool_result(base) + "\n" + base.text
        missing = unsupported(text, evidence)
        if missing:
            raise ModelRejected(
                f"the model stated what the data does not hold: {', '.join(sorted(missing))[:120]}"
            )
        html = "".join(f"<p>{_linkify(escape(p))}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())
        return replace(
            base,
            html=html,
            text=text,
            model=self.settings.model,
            tools=[{"name": "coderef_lookup", "result": json.loads(self._tool_result(base))}],
        )

    async def phrase(self, question: str, base: Answer) -> Answer:
        if not base.citations:
            return base  # nothing to cite: an "I don't know" stays as it is
        started = time.monotonic()
        try:
            if self._async is None:
                self._async = httpx.AsyncClient(timeout=self.settings.timeout)
            client = self._async

            async def post(body: dict[str, Any]) -> dict[str, Any]:
                left = self.settings.timeout - (time.monotonic() - started)
                if left <= 0:
                    raise httpx.TimeoutException("no time left")
                r = await client.post(
                    self.settings.endpoint, json=body, headers=self._headers(), timeout=left
                )
                return _json(r)

            first = self._first(question)
            reply = await post(first)
            second = self._second(first, reply, base)
            if second is not None:
                reply = await post(second)
            return self._accept(reply, base)
        except (httpx.HTTPError, ModelRejected, ValueError, KeyError, TypeError) as exc:
            log.warning("assistant model not used (%s): %s", type(exc).__name__, exc)
            return base

    def phrase_sync(self, question: str, base: Answer) -> Answer:
        if not base.citations:
            return base
        started = time.monotonic()
        try:
            with httpx.Client(timeout=self.settings.timeout) as client:

                def post(body: dict[str, Any]) -> dict[str, Any]:
                    left = self.settings.timeout - (time.monotonic() - started)
                    if left <= 0:
                        raise httpx.TimeoutException("no time left")
                    return _json(
                        client.post(self.settings.endpoint, json=body, headers=self._headers(), timeout=left)
                    )

                first = self._first(question)
                reply = post(first)
                second = self._second(first, reply, base)
                if second is not None:
                    reply = post(second)
                return self._accept(reply, base)
        except (httpx.HTTPError, ModelRejected, ValueError, KeyError, TypeError) as exc:
            log.warning("assistant model not used (%s): %s", type(exc).__name__, exc)
            return base

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None


def _json(r: httpx.Response) -> dict[str, Any]:
    r.raise_for_status()
    data = r.json()
    if not isinstance(data, dict):
        raise ModelRejected("the model API answered with something other than a JSON object")
    return data


def _message(reply: dict[str, Any]) -> dict[str, Any]:
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ModelRejected("the reply has no choices")
    msg = choices[0].get("message")
    if not isinstance(msg, dict):
        raise ModelRejected("the reply's choice has no message")
    return msg


def _linkify(text: str) -> str:
    return re.sub(
        r"(?<![\w/])(/[a-z0-9\-]+/[A-Za-z0-9.\-]+/(?:#[a-z0-9\-]+)?)",
        lambda m: f'<a href="{m[1]}">{m[1]}</a>',
        text,
    )
