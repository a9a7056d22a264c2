"""Model-backed augmentation through any OpenAI-compatible chat-completions endpoint.

vLLM, Ollama, the llama.cpp server and hosted APIs all speak the protocol;
``augment.llm.base_url`` and ``augment.llm.model`` pick one, the official
``openai`` client talks to it. Ops (prompt templates in conf/augment/):

- ``paraphrase``: the record's question said another way;
- ``back_translate``: zh -> en -> zh (en -> zh -> en for English records),
  two calls, the second fed the first's answer;
- ``dialect_rewrite``: the question in a dialect (``augment.llm.dialects``);
- ``boundary``: for a hard record and its confusable neighbour (see
  ``hard.py``), a new question that clearly belongs to the record's intent
  and not to the neighbour's, with an answer.

Calls go through ftdata/llm/ (client, cache, retries, budget, key scrubbing).
"""

from __future__ import annotations

from ftdata.errors import ConfigError
from ftdata.llm.client import PromptTemplate

LLM_OPS = ("paraphrase", "back_translate", "dialect_rewrite", "boundary")
# template names each op uses, in call order
OP_TEMPLATES = {
    "paraphrase": ("paraphrase",),
    "back_translate": ("back_translate_out", "back_translate_back"),
    "dialect_rewrite": ("dialect_rewrite",),
    "boundary": ("boundary",),
}


def check_ops(ops: list[str], templates: dict[str, PromptTemplate]) -> None:
    import difflib

    for op in ops:
        if op not in LLM_OPS:
            close = difflib.get_close_matches(op, LLM_OPS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(LLM_OPS)})"
            raise ConfigError(f"params.yaml: augment.llm.ops: unknown op {op!r}{hint}")
        for name in OP_TEMPLATES[op]:
            if name not in templates:
                raise ConfigError(
                    f"params.yaml: augment.llm.templates: op {op!r} needs template `{name}`"
                )
