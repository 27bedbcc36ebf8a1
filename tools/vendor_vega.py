"""Writes .dvc/html/plots.html, the page `dvc plots show` fills, with Vega, Vega-Lite and
Vega-Embed inlined: DVC's own page loads them from a CDN, and offline its charts are blank.

The versions are pinned here and fetched from the npm registry with `npm pack` (BSD-3-Clause, their
licence notices kept in the page). Run it again only to change a version:
    python tools/vendor_vega.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / ".dvc" / "html" / "plots.html"
# Vega-Lite 5 reads the v5 specs DVC's templates write; Vega-Embed 6 is the one built for it.
PACKAGES = {"vega": "5.33.1", "vega-lite": "5.23.0", "vega-embed": "6.29.0"}

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  {{refresh_tag}}
  <title>DVC plots</title>
  <style>
    body {{ font-family: system-ui, sans-serif; margin: 1rem; }}
    table {{ border-spacing: 15px; }}
    img {{ max-width: 100%; height: auto; }}
  </style>
{scripts}
</head>
<body>
  {{plot_divs}}
</body>
</html>
"""


def script(package: str, version: str, work: Path) -> str:
    """The package's minified build and its licence, as one inline script element."""
    subprocess.run(["npm", "pack", "--silent", f"{package}@{version}"], cwd=work, check=True, capture_output=True)
    with tarfile.open(work / f"{package}-{version}.tgz") as archive:
        build = archive.extractfile(f"package/build/{package}.min.js").read().decode()
        names = archive.getnames()
        meta = json.loads(archive.extractfile("package/package.json").read())
        # vega's own tarball ships no LICENSE file, only the field in package.json.
        licence = (
            archive.extractfile("package/LICENSE").read().decode()
            if "package/LICENSE" in names
            else f"Licence: {meta['license']} ({meta.get('homepage', meta.get('repository', ''))})\n"
        )
    if "</script" in build:
        raise ValueError(f"{package}'s build contains '</script': it cannot be inlined")
    notice = licence.replace("*/", "* /")
    return f"<script>/* {package} {version} from the npm registry\n{notice}*/\n{build}</script>"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        scripts = "\n".join(script(p, v, Path(tmp)) for p, v in PACKAGES.items())
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    # DVC fills {plot_divs} and {refresh_tag}; its {scripts} (the CDN tags) is left out on purpose.
    PAGE.write_text(TEMPLATE.format(scripts=scripts))
    versions = ", ".join(f"{p} {v}" for p, v in PACKAGES.items())
    print(f"wrote {PAGE.relative_to(ROOT)} ({PAGE.stat().st_size:,} bytes): {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
