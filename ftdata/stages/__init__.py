"""The pipeline's stages, one module per DVC stage: glue that reads params, runs ops, writes
outputs (no text logic here).

They ship with the engine, so upgrading ftdata upgrades them; a dataset project's own
``stages/`` folder holds only the entry points dvc.yaml runs (``python -m stages.<name>``).
"""
