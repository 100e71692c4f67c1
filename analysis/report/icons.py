"""The theme's icons without the 1.5 MB Font Awesome script: the few solid icons the pages use,
cut out of the theme's own ``fontawesome.js`` after the build, drawn as inline SVG by a small
script (Font Awesome Free icons, CC BY 4.0, as shipped by pydata-sphinx-theme).

The theme loads ``_static/scripts/fontawesome.js`` (every icon of every style) on every page;
the report uses about fifteen. :func:`subset_icons` writes ``_static/scripts/fa-icons.js`` with
those and points every page at it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

STYLE_TOKENS = {"fa-solid", "fas", "fa-lg", "fa-fw", "fa-xl", "fa-sm", "fa-2x", "fa-regular", "far",
                "fa-brands", "fab"}
SCRIPT = """/* Font Awesome Free icons (CC BY 4.0, https://fontawesome.com/license/free): the solid icons
   this report uses, as inline SVG; written by the ruralgov build from the theme's fontawesome.js. */
(function () {
  var I = %s;
  var NS = "http://www.w3.org/2000/svg";
  function draw(root) {
    (root || document).querySelectorAll(".fa-solid, .fas").forEach(function (e) {
      if (e.namespaceURI === NS) return;
      var name = null;
      e.classList.forEach(function (c) { if (c.indexOf("fa-") === 0 && I[c.slice(3)]) name = c.slice(3); });
      if (!name) return;
      var d = I[name], s = document.createElementNS(NS, "svg"), p = document.createElementNS(NS, "path");
      // the theme's colour-mode button shows an icon by its data-mode: keep every attribute
      Array.prototype.forEach.call(e.attributes, function (a) { s.setAttribute(a.name, a.value); });
      s.setAttribute("viewBox", "0 0 " + d[0] + " " + d[1]);
      s.setAttribute("class", "svg-inline--fa " + e.getAttribute("class"));
      s.setAttribute("aria-hidden", "true");
      s.setAttribute("focusable", "false");
      p.setAttribute("fill", "currentColor");
      p.setAttribute("d", d[2]);
      s.appendChild(p);
      e.replaceWith(s);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { draw(); });
  else draw();
})();
"""
_CLASS = re.compile(r'class="([^"]*\bfa-[^"]*)"')
_TAG = re.compile(r'<script[^>]*src="([^"]*?)scripts/fontawesome\.js(?:\?[^"]*)?"[^>]*>\s*</script>')


def solid_pack(js: str) -> str:
    """The source of the solid icon pack (``var p={...}`` registered as "fas")."""
    end = js.index('d("fas",p)')
    start = js.rindex("var p={", 0, end)
    return js[start:end]


def icon(pack: str, name: str) -> list | None:
    """[width, height, path] of a solid icon, or None when the pack has no such icon."""
    # the pack writes a key unquoted when JavaScript allows it (bars:, 0:), quoted otherwise ("arrow-down":)
    bare = re.fullmatch(r"[A-Za-z_$][\w$]*|0|[1-9]\d*", name)
    key = rf'(?<![\w"$-]){re.escape(name)}' if bare else f'"{re.escape(name)}"'
    m = re.search(key + r':\[(\d+),(\d+),\[[^\]]*\],"[^"]*","([^"]+)"\]', pack)
    return [int(m.group(1)), int(m.group(2)), m.group(3)] if m else None


def used_icons(html: str) -> set[str]:
    """Icon names (``fa-bars`` → ``bars``) used in a page's HTML."""
    out = set()
    for cls in _CLASS.findall(html):
        out |= {t[3:] for t in cls.split() if t.startswith("fa-") and t not in STYLE_TOKENS}
    return out


def subset_icons(outdir: Path) -> int:
    """Replace the theme's Font Awesome script by the icons the pages use; returns their number
    (0 when the theme's script is not there: nothing is changed)."""
    full = outdir / "_static" / "scripts" / "fontawesome.js"
    if not full.exists():
        return 0
    pages = sorted(outdir.rglob("*.html"))
    texts = {p: p.read_text(encoding="utf-8") for p in pages}
    pack = solid_pack(full.read_text(encoding="utf-8"))
    names = sorted(set().union(*(used_icons(t) for t in texts.values())))
    icons = {n: i for n in names if (i := icon(pack, n)) is not None}
    (full.parent / "fa-icons.js").write_text(SCRIPT % json.dumps(icons, separators=(",", ":")), encoding="utf-8")
    for p, t in texts.items():
        new = _TAG.sub(lambda m: f'<script defer="defer" src="{m.group(1)}scripts/fa-icons.js"></script>', t)
        if new != t:
            p.write_text(new, encoding="utf-8")
    full.unlink()
    full.with_name("fontawesome.js.map").unlink(missing_ok=True)
    return len(icons)
