"""DVC stage entry points, ``python -m stages.<name>``: each hands over to ftdata.stages.<name>.

``ftdata init`` copies this folder into a new project, so a project runs the stages of the
ftdata it has installed; ``stages/code.yaml`` holds each stage's code identity (see
ftdata/codedeps.py).
"""
