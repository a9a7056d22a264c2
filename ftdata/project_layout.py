"""The parts of ftdata's example project a new dataset project starts from.

One list for both readers: setup.py copies them into the wheel (as
``ftdata/templates/example``) and ``ftdata init`` copies them out again, so an
installed engine makes the same projects as a clone. Dependency-free on purpose:
setup.py reads it in a build environment that has none of ftdata's requirements.
"""

EXAMPLE_PARTS = ("dvc.yaml", "conf", "schemas", "guidelines", "stages", "data/raw")
# Not carried over: bytecode, and each project's own code identity (`ftdata compose` writes it).
EXAMPLE_SKIP = ("__pycache__", "*.pyc", "code.yaml")
