"""Augmentation: new training records derived from existing ones, each traceable to its parents.

Modules: ``records`` (how a child record is built), ``rules`` (offline ops:
synonyms, structure, dialect), ``llm`` (ops through an OpenAI-compatible
endpoint), ``cache`` (content-addressed cache of model calls), ``hard``
(hard-example mining), ``balance`` (label distribution and class balance),
``engine`` (what the augment stage does with them).
"""
