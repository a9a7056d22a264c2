"""`python -m stages.report`, the report stage's command in dvc.yaml; the stage is ftdata.stages.report."""

import sys

from ftdata.stages.report import main

if __name__ == "__main__":
    main(*sys.argv[1:])
