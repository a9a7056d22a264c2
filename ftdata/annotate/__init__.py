"""Annotation: exports in, consensus labels, agreement, gates and review queues out."""
