"""Personal data: detection, field redaction and private rejects.

It sits below the engine on purpose: every reject of every stage is built by
ftdata.privacy.rejects, so the runner, the caches and the whole-dataset stages make
rejects private without importing an op.
"""
