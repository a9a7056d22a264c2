"""The wheel carries the example project (``ftdata init``'s templates) as package data.

The example lives at the repository's top level, where ``dvc repro`` builds it; a wheel
has only the ``ftdata`` package, so building one copies the parts
``ftdata/project_layout.py`` names into ``ftdata/templates/example`` inside the build.
An editable install reads the clone itself and copies nothing.
"""

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LAYOUT = runpy.run_path(str(Path(__file__).parent / "ftdata" / "project_layout.py"))


class BuildPyWithExample(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        dest = Path(self.build_lib) / "ftdata" / "templates" / "example"
        shutil.rmtree(dest, ignore_errors=True)
        for part in LAYOUT["EXAMPLE_PARTS"]:
            source, target = Path(part), dest / part
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                ignore = shutil.ignore_patterns(*LAYOUT["EXAMPLE_SKIP"])
                shutil.copytree(source, target, ignore=ignore)
            else:
                shutil.copy2(source, target)


setup(cmdclass={"build_py": BuildPyWithExample})
