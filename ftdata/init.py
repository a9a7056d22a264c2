"""`ftdata init DIR`: a new dataset project, ready for `dvc repro`.

Both templates are built on ftdata's example project: its pipeline (dvc.yaml),
conf/, schemas/, guidelines/ and the stage entry points (stages/), read from the
installed wheel (``ftdata/templates/example``, copied there at build time; see
setup.py) or, for an editable install, from the clone itself. So a stage added to
ftdata's pipeline comes with its config, and both installs make the same project.

- ``bank-card`` keeps the example as it is, raw data included;
- ``blank`` replaces the example's sources by one tiny example source
  (package data under ``ftdata/templates/blank``: a 16-line FAQ, a small
  taxonomy) and neutral settings (``overrides.yaml``: no glossary, no
  annotation exports, its own licence list and card), so that ``dvc repro``
  succeeds right away on a project that is the user's to fill.

The project's stages/ holds entry points only (``python -m stages.<name>`` hands over
to ``ftdata.stages.<name>`` of the installed engine); ``ftdata compose`` writes
``stages/code.yaml``, each stage's code identity, so upgrading ftdata and composing
reruns exactly the stages whose code changed (ftdata/codedeps.py).

Then: ``git init``, ``dvc init`` with DVC's Hydra composition enabled (so
``dvc exp run -S key=value`` works), ``ftdata compose`` (params.yaml and
stages/code.yaml), a default local-directory DVC remote
(``ftdata.release.ensure_default_remote``), and a first commit when git knows who you are.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ftdata import codedeps
from ftdata.errors import ConfigError
from ftdata.project_layout import EXAMPLE_PARTS, EXAMPLE_SKIP

TEMPLATES = ("blank", "bank-card")
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEXT_SUFFIXES = {".yaml", ".yml", ".md", ""}


@dataclass
class InitResult:
    path: str
    template: str
    remote: dict
    committed: bool
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def example_dir() -> Path:
    """The example project the templates start from: the wheel's copy, or the clone."""
    packaged = TEMPLATE_DIR / "example"
    clone = Path(__file__).resolve().parents[1]
    for root in (packaged, clone):
        if all((root / part).exists() for part in EXAMPLE_PARTS):
            return root
    raise ConfigError(
        f"ftdata init: the example project is missing from {packaged} (a wheel built without "
        "setup.py's build step?); reinstall ftdata, or `pip install -e <clone of ftdata>`"
    )


def project_name(dest: Path) -> str:
    """A name for params (``project.name``, ``export.dataset_name``): the folder name, made safe."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", dest.name).strip("_").lower()
    return name or "dataset"


def _render(path: Path, values: dict[str, str]) -> None:
    if path.suffix not in TEXT_SUFFIXES or not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    path.write_text(text, encoding="utf-8")


def _copy_template(template: str, dest: Path) -> None:
    root = example_dir()
    for part in EXAMPLE_PARTS:
        if part == "data/raw" and template != "bank-card":
            continue  # the blank template's raw data comes from its overlay
        if (root / part).is_dir():
            ignore = shutil.ignore_patterns(*EXAMPLE_SKIP)
            shutil.copytree(root / part, dest / part, ignore=ignore)
        else:
            shutil.copy(root / part, dest / part)
    if template == "bank-card":
        return
    dvc_yaml = (dest / "dvc.yaml").read_text(encoding="utf-8")
    overlay = TEMPLATE_DIR / "blank"
    shutil.rmtree(dest / "conf" / "source")
    for taxonomy in (dest / "conf" / "taxonomy").glob("*.yaml"):
        taxonomy.unlink()
    shutil.copytree(
        overlay, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("overrides.yaml")
    )
    overrides = yaml.safe_load((overlay / "overrides.yaml").read_text(encoding="utf-8"))
    config = blank_config(
        yaml.safe_load((root / "conf" / "config.yaml").read_text(encoding="utf-8")), overrides
    )
    (dest / "conf" / "config.yaml").write_text(
        BLANK_CONFIG_HEADER + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    _raw_placeholders(root, dest, yaml.safe_load(dvc_yaml))


BLANK_CONFIG_HEADER = """# ftdata project config: the single source of truth for params.yaml.
# `ftdata compose` resolves it (Hydra) and writes params.yaml; never edit params.yaml by hand.
# To add a raw source: write conf/source/NAME.yaml and add `- source@source.NAME: NAME` below.
# The keys after `_self_` override the group files (neutral settings for a new project).
"""


def blank_config(example: dict, overrides: dict) -> dict:
    """The example's conf/config.yaml with one example source and the blank overrides.

    The defaults list (the pipeline's config groups) is the example's, so a
    stage added to ftdata's pipeline comes with its config; the example's own
    sources give way to ``example`` and its taxonomy to ``example``.
    """
    defaults = [{"source@source.example": "example"}]
    for entry in example.get("defaults", []):
        if isinstance(entry, dict) and any(str(k).startswith("source@") for k in entry):
            continue
        if isinstance(entry, dict) and "taxonomy" in entry:
            entry = {"taxonomy": "example"}
        defaults.append(entry)
    if "_self_" not in defaults:
        defaults.append("_self_")
    groups = {str(k).split("@")[0] for e in defaults if isinstance(e, dict) for k in e}
    config: dict = {"defaults": defaults}
    for key, value in overrides.items():
        if key in groups or key in example:
            config[key] = value
    return config


def _raw_placeholders(root: Path, dest: Path, dvc_yaml: dict) -> None:
    """Raw inputs the pipeline's stages name (besides sources) exist in the new project.

    A directory (e.g. data/raw/annotations/) is created empty with a README
    saying what goes there; a file is copied from the example.
    """
    for stage in (dvc_yaml.get("stages") or {}).values():
        body = stage.get("do", stage) if isinstance(stage, dict) else {}
        for dep in body.get("deps") or []:
            dep = str(dep)
            if not dep.startswith("data/raw/") or "${" in dep or (dest / dep).exists():
                continue
            if (root / dep).is_dir():
                (dest / dep).mkdir(parents=True, exist_ok=True)
                (dest / dep / "README.md").write_text(
                    f"Raw inputs of the `{stage.get('cmd', '').split('stages.')[-1]}` stage go here "
                    f"(see ftdata's example project, {dep}/).\n",
                    encoding="utf-8",
                )
            elif (root / dep).is_file():
                (dest / dep).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(root / dep, dest / dep)


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConfigError(
            f"ftdata init: `{' '.join(cmd)}` failed in {cwd}: {(proc.stderr or proc.stdout).strip()}"
        )
    return proc


def _enable_hydra(dest: Path) -> None:
    from dvc.repo import Repo

    with Repo(str(dest)) as repo, repo.config.edit("repo") as conf:
        conf["hydra"]["enabled"] = True
        conf["hydra"]["config_dir"] = "conf"
        conf["hydra"]["config_name"] = "config"
        conf["core"]["analytics"] = False


def _add_remote(dest: Path, remote: Path | None) -> dict:
    """The default DVC remote: ``remote`` if given, else the release helper's local default."""
    if remote is None:
        from ftdata.release import ensure_default_remote

        return ensure_default_remote(dest)
    from dvc.repo import Repo

    url = str(remote.resolve())
    with Repo(str(dest)) as repo, repo.config.edit("repo") as conf:
        conf["remote"]["local"] = {"url": url}
        conf["core"]["remote"] = "local"
    return {"name": "local", "url": url, "created": True}


def _commit(dest: Path, template: str) -> bool:
    """A first commit, when git has a user name and email (never invented here)."""
    for key in ("user.name", "user.email"):
        if subprocess.run(["git", "config", key], cwd=dest, capture_output=True).returncode != 0:
            return False
    _run(["git", "add", "-A"], dest)
    _run(["git", "commit", "-q", "-m", f"ftdata init (template {template})"], dest)
    return True


def init_project(
    dest: str | Path, template: str = "blank", remote: str | Path | None = None
) -> InitResult:
    """Create a dataset project in ``dest`` (absent or empty) from ``template``."""
    if template not in TEMPLATES:
        raise ConfigError(
            f"ftdata init: unknown template {template!r}; choose one of {', '.join(TEMPLATES)}"
        )
    dest = Path(dest).resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"ftdata init: {dest} exists and is not an empty directory")
    if shutil.which("git") is None:
        raise ConfigError(
            "ftdata init: git is not installed (a dataset project is a git repository)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    _copy_template(template, dest)
    common = TEMPLATE_DIR / "common"
    shutil.copy(common / "Makefile", dest / "Makefile")
    shutil.copy(common / "README.md", dest / "README.md")
    shutil.copy(common / "gitignore", dest / ".gitignore")
    from ftdata.compose import accepted_licenses_file, compose_config

    # The file whose list really wins (the blank template overrides it in conf/config.yaml).
    licenses_file = accepted_licenses_file(dest, compose_config(dest, [])[1])
    values = {"name": project_name(dest), "template": template, "licenses_file": licenses_file}
    for path in sorted(dest.rglob("*")):
        if "data" not in path.relative_to(dest).parts[:1]:
            _render(path, values)

    _run(["git", "init", "-q", "-b", "main"], dest)

    _run([sys.executable, "-m", "dvc", "init", "-q"], dest)
    _enable_hydra(dest)
    from ftdata.compose import write_params

    write_params(dest)
    codedeps.write(dest)
    remote_info = _add_remote(dest, Path(remote) if remote else None)
    committed = _commit(dest, template)
    files = sorted(
        p.relative_to(dest).as_posix()
        for p in dest.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    return InitResult(str(dest), template, remote_info, committed, files)
