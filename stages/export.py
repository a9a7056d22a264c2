"""`python -m stages.export`, the export stage's command in dvc.yaml; the stage is ftdata.stages.export."""

import sys

from ftdata.stages.export import main

if __name__ == "__main__":
    main(*sys.argv[1:])
