"""Trunk post-build hook: moves the inline script Trunk writes into index.html (it loads the
WASM) into its own file, so the page runs under a CSP without 'unsafe-inline' scripts
(infra/template.yaml, ResponseHeaders)."""

import hashlib
import os
import re
from pathlib import Path

staging = Path(os.environ["TRUNK_STAGING_DIR"])
index = staging / "index.html"
html = index.read_text()
inline = re.compile(r"<script type=\"module\">(.*?)</script>", re.S)
scripts = inline.findall(html)
if len(scripts) != 1:
    raise SystemExit(f"boot-script: expected one inline module script in index.html, found {len(scripts)}")
body = scripts[0].strip() + "\n"
name = f"boot-{hashlib.sha256(body.encode()).hexdigest()[:16]}.js"
(staging / name).write_text(body)
index.write_text(inline.sub(f'<script type="module" src="/{name}"></script>', html))
if re.search(r"<script(?![^>]*\ssrc=)[^>]*>", index.read_text()) or " style=" in index.read_text():
    raise SystemExit("boot-script: index.html still has inline script or style")
