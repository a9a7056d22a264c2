"""An OpenAI-compatible chat client with a content-addressed cache, for every model-backed op.

vLLM, Ollama, the llama.cpp server and hosted APIs all speak the protocol; the
official ``openai`` client talks to it. Every call goes through the cache
(ftdata/llm/cache.py); misses are sent with a concurrency limit, a per-call
timeout, retries with exponential backoff (``Retry-After`` honoured) on 429 / 5xx /
timeouts / connection errors / malformed bodies, and a per-build call budget.

The API key is read from the environment variable NAMED in params, handed to the
client and nothing else: it is not in params, the cache, records, metrics or log
lines. A server may echo the request's ``Authorization`` header in a completion, an
error body or a malformed response: every text that comes back is scrubbed before it
is cached, parsed, logged or written (:func:`scrub_key`); a cache entry written
before the scrub is rewritten when it is read. Response headers are never stored.

Responses must be a JSON object with the template's ``fields`` as non-empty strings
in the expected language; otherwise the would-be record is rejected with
``llm_empty``, ``llm_schema_invalid`` or ``llm_off_language``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from string import Template

from ftdata.errors import ConfigError
from ftdata.llm.cache import LlmCache, call_key
from ftdata.reasons import Reason
from ftdata.record import canonical_json, sha256_hex

log = logging.getLogger("ftdata.llm")

FENCE_RE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)
REDACTED_KEY = "<REDACTED_API_KEY>"
# Shorter "keys" are placeholders such as vLLM's `EMPTY`, not secrets: scrubbing
# them would rewrite ordinary words in the model's text.
MIN_SCRUBBED_KEY = 8


def scrub_key(text: str, key: str) -> str:
    """``text`` with every copy of ``key`` (as is, JSON-escaped, URL-escaped) replaced by
    ``<REDACTED_API_KEY>``, so ``Bearer <key>`` becomes ``Bearer <REDACTED_API_KEY>``."""
    if not text or len(key) < MIN_SCRUBBED_KEY:
        return text
    from urllib.parse import quote

    for form in dict.fromkeys((key, json.dumps(key)[1:-1], quote(key, safe=""))):
        text = text.replace(form, REDACTED_KEY)
    return text


_LOG_KEYS: list[str] = []  # keys scrubbed from log records, in the order clients met them


def scrub_logs_of(key: str) -> None:
    """Scrub ``key`` from every log record this process emits from now on.

    The HTTP stack logs response headers at DEBUG (httpcore), so a server that
    echoes the key in a header would put it in a build log that CI keeps; a
    filter on our own loggers would not see those records, a record factory does.
    Records are built only once a logger has decided to emit them, so the cost is
    one string search per key and emitted line. One factory serves every key.
    """
    if len(key) < MIN_SCRUBBED_KEY or key in _LOG_KEYS:
        return
    if not _LOG_KEYS:
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs):
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string is the handler's to report
                return record
            scrubbed = message
            for known in _LOG_KEYS:
                scrubbed = scrub_key(scrubbed, known)
            if scrubbed != message:
                record.msg, record.args = scrubbed, ()
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for known in _LOG_KEYS:
                    text = scrub_key(text, known)
                record.exc_text = text
            return record

        logging.setLogRecordFactory(factory)
    _LOG_KEYS.append(key)


# ------------------------------------------------------------------ templates
@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    user: str
    fields: tuple[str, ...]

    @property
    def hash(self) -> str:
        return sha256_hex(canonical_json([self.system, self.user, list(self.fields)]))[:16]

    def render(self, variables: dict[str, str]) -> list[dict]:
        try:
            system = Template(self.system).substitute(variables)
            user = Template(self.user).substitute(variables)
        except KeyError as err:
            raise ConfigError(
                f"params.yaml: augment.llm.templates.{self.name}: unknown variable ${err.args[0]} "
                f"(known: {', '.join('$' + k for k in sorted(variables))})"
            ) from None
        except ValueError as err:
            raise ConfigError(
                f"params.yaml: augment.llm.templates.{self.name}: {err} (write $$ for a literal $)"
            ) from None
        messages = [{"role": "system", "content": system}] if system.strip() else []
        return [*messages, {"role": "user", "content": user}]


def load_templates(config: dict) -> dict[str, PromptTemplate]:
    out = {}
    for name, spec in config.items():
        out[name] = PromptTemplate(
            name, spec.get("system", ""), spec["user"], tuple(spec["fields"])
        )
    return out


# ------------------------------------------------------------------ responses
def parse_response(
    content: str | None, fields: tuple[str, ...], expect_lang: str
) -> tuple[dict | None, str, str]:
    """``(values, reason, detail)``; values is None when the response is rejected with ``reason``."""
    from ftdata.text.lang import detect_lang

    if content is None or not content.strip():
        return None, Reason.LLM_EMPTY, "empty response"
    body = content.strip()
    fenced = FENCE_RE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        data = json.loads(body)
    except ValueError as err:
        return None, Reason.LLM_SCHEMA_INVALID, f"response is not JSON ({err}): {_excerpt(content)}"
    if not isinstance(data, dict):
        return (
            None,
            Reason.LLM_SCHEMA_INVALID,
            f"expected a JSON object with {list(fields)}: {_excerpt(content)}",
        )
    missing = [f for f in fields if not isinstance(data.get(f), str)]
    if missing:
        return (
            None,
            Reason.LLM_SCHEMA_INVALID,
            f"missing string field(s) {missing}: {_excerpt(content)}",
        )
    values = {f: data[f].strip() for f in fields}
    if not all(values.values()):
        return None, Reason.LLM_EMPTY, f"empty field(s) {[f for f, v in values.items() if not v]}"
    lang = detect_lang(" ".join(values.values()))
    allowed = {"zh": ("zh", "mixed"), "en": ("en", "mixed")}.get(expect_lang, (expect_lang,))
    if lang not in allowed:
        return (
            None,
            Reason.LLM_OFF_LANGUAGE,
            f"expected {expect_lang}, got {lang}: {_excerpt(content)}",
        )
    return values, "", ""


def _excerpt(text: str | None, limit: int = 160) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------ client
@dataclass
class ChatCall:
    """One model call: a rendered template plus what its cache key is made of."""

    template: PromptTemplate
    variables: dict[str, str]
    messages: list[dict] = field(init=False)
    input_hash: str = field(init=False)

    def __post_init__(self) -> None:
        self.messages = self.template.render(self.variables)
        self.input_hash = sha256_hex(canonical_json(self.variables))[:32]


@dataclass
class CallOutcome:
    content: str | None = None
    cached: bool = False
    error: str | None = None  # transport failure after retries
    skipped: bool = False  # over the call budget


@dataclass
class CallStats:
    calls: int = 0  # logical calls sent to the endpoint (cache misses within budget)
    requests: int = 0  # HTTP requests, retries included
    retries: int = 0
    cache_hits: int = 0  # calls the cache saved
    failed: int = 0  # calls that got no response after all retries
    over_budget: int = 0  # cache misses not sent because the budget ran out

    def as_dict(self) -> dict:
        return {
            "calls_made": self.calls,
            "calls_saved": self.cache_hits,
            "requests": self.requests,
            "retries": self.retries,
            "failed": self.failed,
            "over_budget": self.over_budget,
        }


class _Fatal(Exception):
    """An error every call would hit (bad key, wrong model/URL): stop the stage."""


class ChatClient:
    """Cached, budgeted, retrying chat-completions calls (see the module docstring)."""

    def __init__(self, cfg: dict, cache: LlmCache):
        self.cfg = cfg
        self.cache = cache
        self.model = cfg["model"]
        self.stats = CallStats()
        self.gen_params = {
            **{k: v for k, v in dict(cfg["generation"]).items() if v is not None},
            "json_mode": bool(cfg["json_mode"]),
        }
        self._api_key = os.environ.get(cfg["api_key_env"]) or ""
        self._client = None
        scrub_logs_of(self._api_key)

    def _scrub(self, text: str) -> str:
        return scrub_key(text, self._api_key)

    def _openai(self):
        if self._client is None:
            from openai import OpenAI

            if not self._api_key:
                log.warning(
                    "environment variable %s is not set; calling %s without an API key",
                    self.cfg["api_key_env"],
                    self.model,
                )
            self._client = OpenAI(
                base_url=self.cfg["base_url"],
                api_key=self._api_key or "unused",
                timeout=float(self.cfg["timeout_s"]),
                max_retries=0,  # retries are ours: counted, and with the configured backoff
            )
        return self._client

    def key(self, call: ChatCall) -> str:
        return call_key(self.model, call.template.hash, call.input_hash, self.gen_params)

    def run(self, calls: list[ChatCall]) -> list[CallOutcome]:
        """Outcomes in the order of ``calls`` (whatever order responses arrive in)."""
        outcomes = [CallOutcome() for _ in calls]
        keys = [self.key(c) for c in calls]
        first_of: dict[str, int] = {}
        to_send: list[int] = []
        for i, key in enumerate(keys):
            if key in first_of:
                continue  # the same call twice in one build: sent once, answered for both
            first_of[key] = i
            cached = self.cache.get(key)
            if cached is not None and self._scrub(cached) != cached:
                # written before responses were scrubbed: the key leaves the cache now
                cached = self._scrub(cached)
                self.cache.replace_response(key, cached)
            if cached is not None:
                outcomes[i] = CallOutcome(content=cached, cached=True)
                self.stats.cache_hits += 1
            else:
                to_send.append(i)
        budget = max(0, int(self.cfg["max_calls"]) - self.stats.calls)
        # the budget is spent in call order, so which calls are made is deterministic
        sending, over = to_send[:budget], to_send[budget:]
        for i in over:
            outcomes[i] = CallOutcome(skipped=True)
        self.stats.over_budget += len(over)
        if over:
            log.warning(
                "call budget augment.llm.max_calls=%s reached: %d calls not made",
                self.cfg["max_calls"],
                len(over),
            )
        self.stats.calls += len(sending)
        if sending:
            with ThreadPoolExecutor(max_workers=max(1, int(self.cfg["concurrency"]))) as pool:
                results = list(pool.map(lambda i: self._send(calls[i], keys[i]), sending))
            for i, outcome in zip(sending, results, strict=True):
                outcomes[i] = outcome
        for i, key in enumerate(keys):
            j = first_of[key]
            if j != i:
                outcomes[i] = outcomes[j]
        return outcomes

    def _send(self, call: ChatCall, key: str) -> CallOutcome:
        try:
            content = self._scrub(self._complete(call.messages))
        except _Fatal as err:
            raise ConfigError(str(err)) from None
        except Exception as err:  # noqa: BLE001 - any transport failure ends as a counted failed call
            self.stats.failed += 1
            detail = self._scrub(f"{type(err).__name__}: {err}")
            log.warning(
                "model call failed after %d attempts: %s", int(self.cfg["max_retries"]) + 1, detail
            )
            return CallOutcome(error=detail)
        self.cache.put(
            key,
            model=self.model,
            template_hash=call.template.hash,
            input_hash=call.input_hash,
            params=self.gen_params,
            response=content,
        )
        return CallOutcome(content=content)

    def _complete(self, messages: list[dict]) -> str:
        import openai

        retryable = (
            openai.RateLimitError,
            openai.InternalServerError,
            openai.APITimeoutError,
            openai.APIConnectionError,
            openai.APIResponseValidationError,
            _Malformed,
        )
        kwargs = {k: v for k, v in self.gen_params.items() if k != "json_mode"}
        if self.gen_params["json_mode"]:
            kwargs["response_format"] = {"type": "json_object"}
        attempts = int(self.cfg["max_retries"]) + 1
        for attempt in range(attempts):
            self.stats.requests += 1
            try:
                response = self._openai().chat.completions.create(
                    model=self.model, messages=messages, **kwargs
                )
                return _content(response)
            except (
                openai.AuthenticationError,
                openai.PermissionDeniedError,
                openai.NotFoundError,
            ) as err:
                raise _Fatal(
                    self._scrub(
                        f"params.yaml: augment.llm: {self.cfg['base_url']} answered HTTP {err.status_code} "
                        f"({type(err).__name__}); check augment.llm.base_url, augment.llm.model and the "
                        f"key in ${self.cfg['api_key_env']}"
                    )
                ) from None
            except retryable as err:
                if attempt + 1 >= attempts:
                    raise
                self.stats.retries += 1
                time.sleep(self._backoff(attempt, err))
            except ValueError as err:  # the body was not JSON at all
                if attempt + 1 >= attempts:
                    raise _Malformed(f"malformed response body: {err}") from None
                self.stats.retries += 1
                time.sleep(self._backoff(attempt, err))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, err: Exception) -> float:
        delay = float(self.cfg["backoff_s"]) * (2**attempt)
        response = getattr(err, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        return min(delay, float(self.cfg["backoff_max_s"]))


class _Malformed(Exception):
    """A 200 response whose body is not a chat completion."""


def _content(response) -> str:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError) as err:
        raise _Malformed(f"not a chat completion ({type(err).__name__})") from None
    return content if isinstance(content, str) else ""
