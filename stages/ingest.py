"""`python -m stages.ingest`, the ingest stage's command in dvc.yaml; the stage is ftdata.stages.ingest."""

import sys

from ftdata.stages.ingest import main

if __name__ == "__main__":
    main(*sys.argv[1:])
