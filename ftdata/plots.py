"""``dvc plots show`` that renders without network: ``make plots`` / ``python -m ftdata.plots``.

DVC's page loads Vega, Vega-Lite and Vega-Embed from a CDN, so offline (and on
this project's machines) it is a blank page. ``dvc plots show --html-template``
takes any page with a ``{plot_divs}`` placeholder; the one written here inlines
the three libraries from vl-convert-python's bundle (``vl_convert.javascript_bundle``
ships them in the wheel, nothing is downloaded) and has no ``{scripts}``
placeholder, so DVC adds no CDN tags at all. The page is one self-contained file.

The HTML data report (data/processed/report/index.html, drawn by the report
stage) is the other offline view and needs nothing but a browser.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OUT_DIR = Path("dvc_plots")
TEMPLATE = OUT_DIR / "offline_template.html"
# DVC's built-in templates are Vega-Lite 5 specs.
VEGA_LITE = "5.21"

PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<!-- {marker} -->
<title>DVC plots</title>
<style>body{{font-family:system-ui,sans-serif;margin:16px}} div[id]{{margin:0 0 24px}}</style>
<script>
(function () {{
{bundle}
}})();
</script>
</head>
<body>
{{plot_divs}}
</body>
</html>
"""


def template_text() -> str:
    """The offline page: Vega, Vega-Lite and Vega-Embed inlined, DVC's plots at ``{plot_divs}``."""
    import vl_convert

    # An inline script ends at the first "</script"; the bundle has none today, but a
    # later one must not cut the page short.
    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE).replace("</script", "<\\/script")
    return PAGE.format(marker=_marker(vl_convert), bundle=bundle)


def _marker(vl_convert) -> str:
    return (
        f"ftdata offline plots: vega {vl_convert.get_vega_version()}, vega-lite {VEGA_LITE}, "
        f"vega-embed {vl_convert.get_vega_embed_version()}"
    )


def write_template(path: Path = TEMPLATE) -> Path:
    """Write the offline template once per vl-convert version (the bundle takes seconds)."""
    import vl_convert

    path = Path(path)
    if path.is_file() and _marker(vl_convert) in path.read_text(encoding="utf-8")[:400]:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template_text(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """``dvc plots show`` (or ``diff REV...``, any ``dvc plots`` arguments) with the offline page."""
    args = list(sys.argv[1:] if argv is None else argv) or ["show"]
    template = write_template().resolve()
    cmd = [sys.executable, "-m", "dvc", "plots", *args, "--html-template", str(template)]
    return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
