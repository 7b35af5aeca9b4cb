"""Trunk post-build hook, release builds only: shrinks the WASM with wasm-opt and the wasm-bindgen
JS glue with terser, then updates the integrity hashes Trunk wrote into index.html for both.

Both tools come from app/package.json (scripts/install runs `npm ci` here): binaryen's wasm-opt
built as JS/WASM, so nothing is downloaded at build time and Trunk's own wasm-opt download stays
off (index.html). About 4 KB less to transfer (scripts/sizes)."""

import base64
import hashlib
import os
import re
import subprocess
from pathlib import Path

# Rust's default WebAssembly features for wasm32-unknown-unknown: the stripped module no longer
# lists them, and wasm-opt must keep wasm-bindgen's reference-types table as it is.
FEATURES = [
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
]

if os.environ.get("TRUNK_PROFILE") == "release":
    staging = Path(os.environ["TRUNK_STAGING_DIR"])
    tools = Path.cwd() / "node_modules" / ".bin"
    if not (tools / "wasm-opt").exists() or not (tools / "terser").exists():
        raise SystemExit("optimize: wasm-opt or terser is missing: run scripts/install (or `npm ci` in app/)")
    index = staging / "index.html"
    html = index.read_text()
    for wasm in staging.glob("*_bg.wasm"):
        glue = wasm.with_name(wasm.name.removesuffix("_bg.wasm") + ".js")
        # -O1 until it converges: of wasm-opt's levels the smallest after gzip (measured 2026-11:
        # -O1 142.5 KB, -Os 144.0 KB, -Oz 144.3 KB; -Oz is the smallest before gzip).
        subprocess.run([tools / "wasm-opt", "-O1", "--converge", *FEATURES, wasm, "-o", wasm], check=True)
        subprocess.run([tools / "terser", glue, "--module", "--compress", "--mangle", "-o", glue], check=True)
        for file in (wasm, glue):
            digest = base64.b64encode(hashlib.sha384(file.read_bytes()).digest()).decode()
            html, found = re.subn(
                rf'(href="[^"]*/{re.escape(file.name)}"[^>]*integrity=")sha384-[^"]+', rf"\g<1>sha384-{digest}", html
            )
            if found != 1:
                raise SystemExit(f"optimize: expected one integrity hash for {file.name} in index.html, found {found}")
    index.write_text(html)
