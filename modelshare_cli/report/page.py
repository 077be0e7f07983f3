"""The report as one self-contained HTML page: the data, the script and the style inline, no
server, no network (no CDN, no font, no image fetched), so an auditor can open the file anywhere."""

from __future__ import annotations

import html
import json
from pathlib import Path

from modelshare_cli.report.model import Report

_ASSETS = Path(__file__).parent


def as_html(report: Report, *, title: str = "modelshare: who can see what") -> str:
    data = json.dumps(report.as_json(), sort_keys=True)
    # Inside <script>, "</" would end the element and "<!--" open a comment: JSON's \u escapes
    # keep the data inert whatever a name or a reason holds.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    style = (_ASSETS / "page.css").read_text(encoding="utf-8")
    script = (_ASSETS / "page.js").read_text(encoding="utf-8")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>{html.escape(title)}</title>
<style>
{style}
</style>
</head>
<body>
<header>
  <h1>{html.escape(title)}</h1>
  <p id="summary"></p>
  <div class="controls">
    <input id="search" type="search" placeholder="search groups, accounts" autocomplete="off">
    <label><input id="findings-only" type="checkbox"> findings only</label>
    <button id="expand" type="button">expand all</button>
    <button id="collapse" type="button">collapse all</button>
    <span id="matches"></span>
  </div>
  <p class="legend">Edges: owner &rarr; group &rarr; consumer, coloured by the access granted:
    <span class="swatch discover">discover</span> <span class="swatch register">register</span>
    <span class="swatch deploy">deploy</span> <span class="swatch custom">other</span>
    <span class="swatch finding">beyond the allowlist</span> (dashed: invitation pending)</p>
</header>
<section id="findings"><h2>Findings</h2><ul id="finding-list"></ul></section>
<section id="errors"></section>
<main id="owners"></main>
<script id="report-data" type="application/json">{data}</script>
<script>
{script}
</script>
</body>
</html>
"""
