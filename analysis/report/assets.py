"""Static assets the offline HTML needs: MathJax 3, fetched once from the npm registry.

The tarball's integrity is checked against the registry's published SHA-512 before anything
is extracted; only the CHTML bundle and its fonts are kept (``_build/.assets/mathjax/``: like
every file a build makes, it stays under ``_build/``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tarfile
import urllib.request

from analysis import paths

MATHJAX_VERSION = "3.2.2"
MATHJAX_URL = f"https://registry.npmjs.org/mathjax/-/mathjax-{MATHJAX_VERSION}.tgz"
MATHJAX_SHA512 = "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
STATIC_DIR = paths.BUILD / ".assets"
"""The extra static folder of the HTML (``html_static_path``)."""
MATHJAX_DIR = STATIC_DIR / "mathjax"
KEEP = ("package/es5/tex-mml-chtml.js", "package/es5/output/chtml/fonts/woff-v2/", "package/LICENSE")


def ensure_mathjax() -> bool:
    """Make sure the local MathJax bundle exists; fetch and verify it if not. True when present."""
    target = MATHJAX_DIR / "tex-mml-chtml.js"
    if target.exists():
        return True
    try:
        data = urllib.request.urlopen(MATHJAX_URL, timeout=60).read()
    except OSError:
        return False
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != MATHJAX_SHA512:
        raise RuntimeError(f"MathJax tarball integrity mismatch (got sha512 {digest[:16]}…)")
    # unpacked beside the bundle and moved in whole: a fetch cut short leaves no script, so the
    # next build fetches again instead of taking a bundle without its fonts as present
    partial = MATHJAX_DIR.with_name(MATHJAX_DIR.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.startswith(KEEP):
                rel = m.name.removeprefix("package/es5/").removeprefix("package/")
                out = partial / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(m).read())  # type: ignore[union-attr]
    shutil.rmtree(MATHJAX_DIR, ignore_errors=True)      # what an interrupted fetch left
    partial.rename(MATHJAX_DIR)
    return target.exists()
