"""Build the report for one wave: validate, execute every page on it, compile HTML.

The wave reaches the pages through ``$RURALGOV_WAVE``.  Execution results are cached by
jupyter-cache in a folder whose name hashes the wave's files, the codebook, ``data/*.yml``, the
``analysis`` package and the commit, so a change to any of them re-executes the pages (a change
to a code cell does so anyway).  The build runs into a temporary folder and replaces ``_build/<wave>/``
only when it succeeds: a failed build leaves the previous report in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from analysis import paths
from analysis.settings import dump_yaml, read_yaml

err = Console(stderr=True)


STAMP = ".ruralgov-build.json"
"""File that marks a folder as a ruralgov build (and records which wave made it)."""


def _is_build(folder: Path) -> bool:
    """Whether a folder holds a previous ruralgov build (its stamp, or an older build's layout), or
    only another edition's build inside it (``--lang zh`` alone writes ``<folder>/zh/``)."""
    if (folder / STAMP).is_file():
        return True
    names = {p.name for p in folder.iterdir()}
    if (folder / "inputs").is_file() and (folder / "html").is_dir() and names <= {"inputs", "html",
                                                                                  "build.log"}:
        return True
    from analysis.i18n import LANGS

    others = {e for e in LANGS if e != "en"}
    return bool(names) and names <= others and all((folder / n).is_dir() and _is_build(folder / n)
                                                    for n in names)


def check_out_dir(out_dir: Path, wave_folders: list[Path]) -> str | None:
    """Why ``--out DIR`` may not be (re)placed by a build, or None when it may.

    A build replaces its output folder whole, so the folder must be absent, empty or a previous
    ruralgov build; never the project root or a folder holding it, the home folder or one of its
    parents, a place inside the project other than ``_build/``, or a wave's own folder.
    """
    target = Path(out_dir).expanduser().resolve()
    root, home = paths.ROOT.resolve(), Path.home().resolve()
    if target == root or target in root.parents:
        return f"--out {out_dir}: refusing to replace the project root or a folder that holds it"
    if target == home or target in home.parents:
        return f"--out {out_dir}: refusing to replace the home folder or a folder that holds it"
    if root in target.parents and paths.BUILD.resolve() not in target.parents:
        return (f"--out {out_dir}: inside the project a report may only be written under "
                f"{paths.BUILD.name}/")
    if paths.WAVES.resolve() in target.parents:
        return f"--out {out_dir}: refusing to write under data/waves/ (raw data are read-only)"
    for wf in wave_folders:
        if target == wf or wf in target.parents or target in wf.parents:
            return f"--out {out_dir}: refusing to write into or over the wave folder {wf}"
    if target.exists():
        if not target.is_dir():
            return f"--out {out_dir}: exists and is not a folder"
        if any(target.iterdir()) and not _is_build(target):
            return (f"--out {out_dir}: the folder is not empty and is not a previous ruralgov build "
                    f"(no {STAMP}); a build replaces its output folder whole, so choose an empty "
                    "or new folder")
        made = _stamp(target)
        if target.parent == paths.BUILD.resolve() and made.get("wave_folder") and wave_folders \
                and Path(made["wave_folder"]) != wave_folders[0]:
            return (f"--out {out_dir}: holds the report of wave {made.get('wave')!r} "
                    f"({made['wave_folder']}), which `ruralgov build` writes there; choose another folder")
    return None


def _stamp(folder: Path) -> dict:
    """What a previous build's stamp says (the wave, its folder), or {} without a readable one."""
    try:
        made = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    return made if isinstance(made, dict) else {}


def check_compared_years(waves: list) -> str | None:  # type: ignore[type-arg]
    """Why waves cannot be compared, or None: the comparison orders its waves by survey year and
    its panel tells them apart by it, so each needs its own (``year:`` in its wave.yml)."""
    if len(waves) < 2:
        return None
    none = [w.id for w in waves if w.spec.year is None]
    if none:
        return (f"compared waves need a survey year (year: in wave.yml); {', '.join(none)} "
                f"{'has' if len(none) == 1 else 'have'} none")
    seen: dict[int, str] = {}
    for w in waves:
        if w.spec.year in seen:
            return (f"compared waves need distinct survey years (the comparison orders and pairs them by "
                    f"year); {seen[w.spec.year]} and {w.id} are both of {w.spec.year}")
        seen[w.spec.year] = w.id
    return None


def check_default_target(name: str, wave_id: str, folder: Path) -> str | None:
    """Why the default ``_build/<name>`` may not be replaced by this wave's build, or None."""
    build = paths.BUILD.resolve()
    target = (build / name).resolve()
    if build not in target.parents:
        return f"the report folder of {name!r} would lie outside {paths.BUILD}"
    home = (paths.WAVES / wave_id).resolve()
    if (paths.WAVES / wave_id).is_dir() and home != folder:
        return (f"wave id {wave_id!r} of {folder} is also the id of {paths.WAVES / wave_id}, whose "
                f"report is {paths.BUILD / name}: give the wave another id (and folder name), or "
                "build it with --out DIR")
    if target.exists():
        if not target.is_dir() or (any(target.iterdir()) and not _is_build(target)):
            return f"{target} exists and is not a ruralgov build: move it away first"
        made = _stamp(target)
        made_by = made.get("wave_folder")
        if made_by and Path(made_by) != folder and name == wave_id:
            other = made.get("wave")
            return (f"{target} holds the report of another wave with the id {wave_id!r} ({made_by}): give "
                    "this wave another id, or build it with --out DIR" if other in (None, wave_id) else
                    f"{target} holds the report of wave {other!r} ({made_by}), built there with --out: "
                    "move it away first, or build this wave with --out DIR")
    return None


def inputs_hash(wave_folder: Path, exclude: tuple[Path, ...] = ()) -> str:
    """SHA-256 over everything the pages read besides their own cells (but the files of ``exclude``):
    the wave (its subfolders too: wave.yml may name ``raw/villagers.csv``), the codebook and settings,
    the published figures, the official statistics and the map under ``data/external/``, the
    package's code."""
    files = [*sorted(wave_folder.rglob("*")), paths.CODEBOOK, *sorted(paths.DATA.glob("*.yml")),
             *sorted(paths.REFERENCE.glob("*")), *sorted(paths.EXTERNAL.rglob("*")),
             *sorted((paths.ROOT / "analysis").rglob("*.py"))]
    return files_hash(f for f in files if f not in exclude)


def files_hash(files: Iterable[Path]) -> str:
    """SHA-256 over the name and bytes of each file, in the order given (folders skipped)."""
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def execution_cache_key(wave_folders: list[Path]) -> str:
    """The key of a build's execution cache (``_build/.jupyter_cache/<name>-<key>``): every input
    of the pages but those a page declares it reads (``data/models.yml``), and the commit (with
    ``+dirty``): the pages print it under every table and figure, so a page executed at another
    commit would cite a commit the footer and ``manifest.json`` do not."""
    from analysis.publishing.provenance import commit_label

    return hashlib.sha256("".join([*(inputs_hash(f, exclude=(paths.MODELS_CONFIG,)) for f in wave_folders),
                                   commit_label()]).encode()).hexdigest()[:16]


PAGE_CELL = """```{{code-cell}} ipython3
:tags: [remove-cell]
# written by the build: the inputs this page declares and their SHA-256 (a change re-executes it)
from analysis.report import context as _context
_context.page_inputs({reads!r})  # {hashes}
```

"""


def page_reads(text: str, page: str) -> tuple[str, ...]:
    """The inputs a page's front matter declares it reads (``ruralgov: {reads: [...]}``)."""
    from analysis.report.context import READS
    from analysis.settings import parse_yaml

    if not text.startswith("---\n") or "\n---" not in text[3:]:
        return ()
    meta = parse_yaml(text[4:text.index("\n---", 3)], page) or {}
    reads = tuple(((meta.get("ruralgov") or {}).get("reads")) or ())
    unknown = [r for r in reads if r not in READS]
    if unknown:
        raise ValueError(f"{page}: front matter ruralgov.reads names {', '.join(map(str, unknown))}; "
                         f"a page may declare {', '.join(READS)}")
    return reads


ALWAYS_READ = ("toc", "messages")
"""Inputs of every page's kernel that the execution cache's key leaves out, hashed into each page
by :func:`declare_inputs`: the book's table of contents and the edition's message catalogs."""


def messages_hash(lang: str) -> str:
    """SHA-256 over the message catalogs a kernel of the ``lang`` edition translates with (none in
    English: the messages are the package's own text)."""
    from analysis.i18n import LOCALE, SPHINX_LANGUAGE

    catalogs = LOCALE / SPHINX_LANGUAGE[lang] / "LC_MESSAGES"
    return files_hash(sorted(catalogs.glob("*.po")) if lang != "en" else [])


def declare_inputs(path: Path, hashes: dict[str, str], page: str) -> None:
    """Put before a page's first code cell the cell telling its kernel which inputs the page
    declares (:func:`analysis.report.context.page_inputs`), with their hashes, and the hashes of
    what every page reads (:data:`ALWAYS_READ`, where given): the execution cache keys on the code,
    so the page is re-executed when one of them changes and only then."""
    from myst_nb.core.read import is_myst_markdown_notebook

    text = path.read_text(encoding="utf-8")
    at = text.find("```{code-cell}")
    if at < 0 or not is_myst_markdown_notebook(text):
        return
    reads = page_reads(text, page)
    named = [*reads, *(k for k in ALWAYS_READ if k in hashes)]
    cell = PAGE_CELL.format(reads=reads, hashes=" ".join(f"{r}:{hashes[r][:16]}" for r in named))
    path.write_text(text[:at] + cell + text[at:], encoding="utf-8")


_EXEC = re.compile(r"(\S+\.md): (Executing notebook|Executed notebook in ([0-9.]+) seconds|Using cached notebook)")
_FAIL = re.compile(r"(\S+\.md)(?::\d+)?: WARNING: (.*)")
# the last line of a traceback: a class named *Error/*Exception or Exception itself, a built-in
# exception without that suffix (StopIteration ...), each bare or with its message, or any CamelCase
# class with its message (UndeclaredInput: ...), module-qualified or not
_ERR = re.compile(r"^(?:[A-Za-z_]\w*\.)*"
                  r"(?:(?:(?:[A-Z]\w*)?(?:Error|Exception)|StopIteration|StopAsyncIteration|KeyboardInterrupt"
                  r"|SystemExit|GeneratorExit)(?::? .*)?|[A-Z][a-z0-9]+[A-Z]\w*: .+)$")


def _pages(toc_file: Path | None = None) -> list[str]:
    toc = read_yaml(toc_file or paths.ROOT / "_toc.yml")
    found = [toc["root"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


REPOSITORY_ENV = "RURALGOV_REPOSITORY"
"""The code's public address (``repository.url`` of ``_config.yml``), for the citation page."""


def edition_dir(base: Path, lang: str) -> Path:
    """Where an edition of the report built into ``base`` lives (Chinese: ``base/zh``)."""
    from analysis.i18n import edition_folder

    return base / edition_folder(lang)


def footer(wave, repository: str = "", lang: str = "en") -> str:  # type: ignore[no-untyped-def]
    """The footer of every page: package version, commit, the wave (synthetic or not), the
    licence, the repository's address when configured and the way to cite."""
    import html

    import analysis
    from analysis.publishing.provenance import commit_label

    from analysis.i18n import _

    kind = _(" — synthetic replica data, illustrating the method only", lang) if wave.synthetic else ""
    repo = (_(" Code: {link}.", lang).format(link=f'<a href="{html.escape(repository, quote=True)}">'
                                                 f'{html.escape(repository)}</a>') if repository else "")
    return _("ruralgov {version}, commit {commit}; wave {wave} (sha256 {sha}){kind}. Code under the MIT "
             "licence; the report's text and tables under CC BY 4.0.{repo} Please cite with the version, "
             "commit and wave.", lang).format(version=analysis.__version__, commit=commit_label(),
                                              wave=html.escape(wave.id), sha=wave.sha256[:12], kind=kind, repo=repo)


PDF_ENV = "RURALGOV_PDF"
"""File name of the PDF edition at the root of the HTML (set by the build when it prints one)."""


def chromium() -> str | None:
    """The Chromium that prints the PDF edition (Debian's ``chromium``), or None."""
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def build_pdf(cmd: list[str], env: dict, work: Path, html: Path, name: str, root_doc: str) -> Path:
    """The PDF edition: the whole book as one HTML page (Sphinx's ``singlehtml`` builder, pages
    from the execution cache, so nothing is computed again), printed by headless Chromium with
    the report's print stylesheet (A4, reading column only). Same numbers, table and figure
    numbers as the HTML. Written to ``html/<name>``; raises ``RuntimeError`` when a step fails."""
    out = work / "single"
    single = [*cmd[:cmd.index("--path-output") + 1], str(out), "--builder", "singlehtml",
              *cmd[cmd.index("--path-output") + 2:]]
    with open(work / "pdf.log", "w", encoding="utf-8") as fh:
        code = subprocess.run(single, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
    page = out / "_build" / "singlehtml" / f"{root_doc}.html"
    if code != 0 or not page.exists():
        raise RuntimeError(f"the single-page HTML failed (exit {code}); its log: _build/logs/")
    # the single page sits in the root doc's folder but links its assets from the root
    printable = page.parents[len(Path(root_doc).parts) - 1] / "print.html"
    shutil.copyfile(page, printable)
    target = html / name
    res = subprocess.run([str(chromium()), "--headless", "--no-sandbox", "--disable-gpu",
                          "--no-pdf-header-footer", "--virtual-time-budget=20000",
                          "--disable-background-networking", f"--print-to-pdf={target}", printable.as_uri()],
                         capture_output=True, text=True, check=False, timeout=600)
    if res.returncode != 0 or not target.exists() or target.stat().st_size < 10_000:
        raise RuntimeError(f"Chromium could not print the PDF (exit {res.returncode}): {res.stderr[-300:]}")
    return target


TABLES_ZIP = "tables.zip"
"""The archive of every table's data, at the root of the HTML (linked from the citation page)."""


def tables_archive(html: Path) -> int:
    """Collect the CSV embedded under every table and figure of the built pages into ``html/tables.zip``
    (``<page>/<table>.csv``): the data exactly as each page offers it, disclosure applied.
    Returns the number of tables."""
    import zipfile
    from urllib.parse import unquote

    from analysis.publishing.tables import CSV_LINK

    n = 0
    tmp = html / f".{TABLES_ZIP}.tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for page in sorted(html.rglob("*.html")):
            seen: set[str] = set()
            for name, data in CSV_LINK.findall(page.read_text(encoding="utf-8")):
                if name in seen:
                    continue
                seen.add(name)
                info = zipfile.ZipInfo(f"{page.stem}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
                z.writestr(info, unquote(data), compress_type=zipfile.ZIP_DEFLATED)
                n += 1
    os.replace(tmp, html / TABLES_ZIP)
    return n


def landing_page(html: Path, title: str, lang: str = "en") -> bool:
    """Jupyter Book's root ``index.html`` is a bare redirect (no title, no language, nothing to
    follow where redirects are off): written again as a page with its title, its language, the
    same redirect and a link to the first page. False when the file is not such a redirect."""
    import html as html_

    from analysis import i18n

    page = html / "index.html"
    m = re.fullmatch(r'\s*<meta http-equiv="Refresh" content="0; url=([^"<>]+)"\s*/?>\s*',
                     page.read_text(encoding="utf-8"))
    if not m:
        return False
    url, t = html_.escape(m.group(1), quote=True), html_.escape(title)
    page.write_text(f'<!DOCTYPE html>\n<html lang="{i18n.HTML_LANG[lang]}">\n<head>\n<meta charset="utf-8">\n'
                    f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                    f'<title>{t}</title>\n<meta http-equiv="Refresh" content="0; url={url}">\n</head>\n'
                    f'<body>\n<p><a href="{url}">{t}</a></p>\n</body>\n</html>\n', encoding="utf-8")
    return True


def book_toc(wave, *, compare: bool = False, profiles: list[str] | None = None,  # type: ignore[no-untyped-def]
             lang: str = "en") -> dict:
    """The table of contents of a wave's book: ``_toc.yml``, with the comparison page for a
    comparison build, the province profiles after the official-statistics page's part when given
    (a book without that page has no profiles), and without the reproduction page unless the
    wave reproduces the seed. A table of contents of chapters only becomes one part; part
    captions in the edition ``lang``."""
    from analysis.i18n import _
    from analysis.report.profiles import toc_part

    toc = read_yaml(paths.ROOT / "_toc.yml")
    if "parts" not in toc:                     # a book of chapters only: one part without caption
        toc = {**{k: v for k, v in toc.items() if k != "chapters"},
               "parts": [{"chapters": list(toc.get("chapters") or [])}]}
    at = next((i + 1 for i, part in enumerate(toc["parts"])
               if any(c.get("file") == "book/provinces" for c in part.get("chapters", []))), None)
    if profiles and at is not None:            # the profiles follow the official statistics, if any
        toc["parts"].insert(at, toc_part(profiles, lang))
    if compare:
        toc["parts"].insert(1, {"caption": "Comparison", "chapters": [{"file": "book/compare"}]})
    for part in toc["parts"]:
        if part.get("caption"):
            part["caption"] = _(part["caption"], lang)
    if not wave.spec.reproduces_seed:
        for part in toc["parts"]:
            part["chapters"] = [c for c in part.get("chapters", []) if c.get("file") != "book/reproduction"]
    return toc


def _page_name(path: str, root: Path | None = None) -> str:
    """A page as the toc names it (book/x.md) from a path in the Sphinx log (``root``: the
    build's source folder)."""
    p, root = Path(path), root or paths.ROOT
    return p.relative_to(root).as_posix() if p.is_absolute() and root in p.parents else path


def _run(cmd: list[str], env: dict, log: Path, verbose: bool) -> tuple[int, dict[str, str], dict[str, str]]:
    """Run jupyter-book, logging everything (appended to ``log``: pages executed ahead are
    logged first); show a progress bar over pages; collect failures."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    pages = _pages(Path(cmd[cmd.index("--toc") + 1]))
    root = Path(cmd[2])
    failed: dict[str, str] = {}
    executed: dict[str, str] = {}
    pending: str | None = None
    with open(log, "a", encoding="utf-8", buffering=1) as fh, Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total} pages"), TimeElapsedColumn(),
            console=err, transient=True, disable=verbose or not err.is_terminal) as prog:
        task = prog.add_task("executing pages", total=len(pages))
        proc = subprocess.Popen(cmd, env=env, cwd=paths.ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            if verbose:
                sys.stderr.write(line)
            clean = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
            clean = clean.replace(f"{root}{os.sep}", "")   # a page as book/x.md, whatever spaces root has
            m = _EXEC.search(clean)
            if m:
                page = _page_name(m.group(1), root)
                if m.group(2).startswith("Executing"):
                    prog.update(task, description=f"executing {page}")
                else:
                    executed[page] = "cache" if "cached" in m.group(2) else f"{m.group(3)} s"
                    prog.advance(task)
            pending = page_failure(clean, root, failed, pending)
        code = proc.wait()
    return code, failed, executed


def page_failure(clean: str, root: Path, failed: dict[str, str], pending: str | None) -> str | None:
    """Read one line of jupyter-book's output into ``failed`` (page → why); returns the page whose
    cell's own exception is awaited (after its traceback), or None. Sphinx's "Exception occurred:"
    and nbclient's wrapper of a cell's error are not the reason; a cell that timed out or a kernel
    that died is nbclient's own exception, and is."""
    f = _FAIL.search(clean)
    if f:
        page = _page_name(f.group(1), root)
        failed.setdefault(page, f.group(2))
        return page if "Executing notebook failed" in f.group(2) else None
    own = re.match(r"^(?:nbclient\.exceptions\.)?(?:CellTimeoutError|DeadKernelError)\b", clean)
    wrapper = clean.startswith(("nbclient", "myst_nb", "CellExecutionError")) or clean == "Exception occurred:"
    if pending and _ERR.match(clean) and (own or not wrapper):
        failed[pending] = clean          # the cell's own exception, after the traceback
    return pending


def _execute_ahead(cache: Path, sources: dict[str, Path], env: dict, jobs: int,
                   timeout: int, log: Path | None = None, shared: frozenset[str] = frozenset(),
                   allow_errors: bool = False) -> dict[str, tuple[float, str | None]]:
    """Execute the pages missing from the execution cache ``jobs`` at a time, with a progress
    bar (:mod:`analysis.report.execute`; pages and what their kernels print logged to ``log``
    as they run); page → outcome."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.report.execute import execute_pages, pending_pages

    todo = pending_pages(cache, sources)
    if not todo:
        return {}
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} pages"), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as prog:
        task = prog.add_task(f"executing pages, {jobs} at a time", total=len(todo))

        def advance(page: str, error: str | None) -> None:
            prog.advance(task)
            if error is not None:
                err.print(f"[yellow]{page} failed ({escape(str(error))}); the book executes it again and "
                          "reports it[/yellow]")

        return execute_pages(cache, todo, env, jobs, progress=advance, timeout=timeout, log=log,
                             shared=shared, allow_errors=allow_errors)


def book_hash() -> str:
    """SHA-256 over the pages, the book configuration, the catalogs and the report's own static
    files (its stylesheet: they change no page's numbers, so they are not in the inputs' hash)."""
    from analysis.i18n import LOCALE
    from analysis.report.sphinx_ext import STATIC

    return files_hash([paths.ROOT / "_config.yml", paths.ROOT / "_toc.yml", *sorted(paths.BOOK.glob("*")),
                       *sorted(LOCALE.rglob("*.po")), *sorted(STATIC.rglob("*"))])


def edition_is_current(folder: Path, key: str, book: str, profiles: bool) -> bool:
    """Whether the edition built in ``folder`` was built from the inputs ``key``, the book ``book``
    and the same profile pages (the first, second and last fields of its stamp): an edition built
    from others says other numbers, and no page links to it."""
    try:
        fields = (folder / "inputs").read_text(encoding="utf-8").strip().split(":")
    except OSError:
        return False
    return len(fields) == 6 and fields[:2] == [key, book] and \
        fields[5] == ("profiles" if profiles else "no-profiles")


def stale_folders(name: str, target: Path) -> list[Path]:
    """The folders a killed build of the report ``name`` into ``target`` left: its temporary folder
    under ``_build/`` (``.tmp-<name>-<pid>-`` and tempfile's eight characters) and the staging and
    old copies beside ``target`` (``.staging-<target's name>-<pid>``, ``.old-…``). Not those of a
    build still running (its process alive: the other edition of the same report, built in another
    terminal), nor those of a report whose name only starts with ``name`` (wave ``w-b`` beside
    ``w``)."""
    tmp = re.compile(rf"\.tmp-{re.escape(name)}-(?:(\d+)-)?[a-z0-9_]{{8}}")    # no pid: an older build's
    beside = re.compile(rf"\.(?:staging|old)-{re.escape(target.name)}-(\d+)")
    found = [(p, tmp.fullmatch(p.name)) for p in paths.BUILD.glob(".tmp-*")]
    if target.parent.is_dir():
        found += [(p, beside.fullmatch(p.name)) for p in target.parent.glob(".*")]
    return sorted(p for p, m in found if m and not (m.group(1) and _alive(int(m.group(1)))))


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (another build's, whose folders are not stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def build_book(wave: str, out_dir: Path | None = None, *, verbose: bool = False,
               force: bool = False, cache_root: Path | None = None,
               compare: list[str] | None = None, pdf: bool | None = None,
               profiles_enabled: bool = True, lang: str = "en",
               editions: tuple[str, ...] | None = None, jobs: int | None = None) -> int:
    """Build the HTML report of ``wave`` into ``out_dir`` (default ``_build/<wave>``); exit code.

    ``cache_root``: where execution caches live (default ``_build/.jupyter_cache``).
    ``profiles_enabled``: one generated page per province (:mod:`analysis.report.profiles`).
    ``pdf``: also print the PDF edition (``html/ruralgov-<name>.pdf``, linked from every page's
    footer; ``pdf/ruralgov-<name>.pdf`` beside the HTML); None: when Chromium is installed.
    ``lang``: the edition (``en``, or ``zh`` into ``<out_dir>/zh/``: the same pages and numbers,
    prose from the catalogs of :mod:`analysis.i18n`); ``editions``: the editions a page's
    language switch links to (default: this one and those already built beside it).
    ``jobs``: pages executed at once (default: the cores available; 1: one after the other, by
    the book itself).
    """
    from analysis import i18n
    from analysis.publishing.provenance import build_time

    if lang not in i18n.LANGS:
        err.print(f"[red]unknown edition {escape(repr(lang))}: one of {', '.join(i18n.LANGS)}[/red]")
        return 2
    try:          # a malformed SOURCE_DATE_EPOCH: before any work, and before numpy's f2py (which
        build_time()          # scipy imports when a wave is read) fails on it with a traceback
    except ValueError as e:
        err.print(f"[red]{escape(str(e))}; nothing was built[/red]")
        return 2
    from analysis.ingest.wave import WaveInvalid, load_wave
    from analysis.settings import SettingsError

    waves = []
    for wv in [wave, *(compare or [])]:
        try:
            waves.append(load_wave(wv))            # validated once, here
        except WaveInvalid as e:
            for p in e.report.errors[:20]:
                err.print(f"[red]{escape(str(p))}[/red]")
            err.print(f"[red]wave {escape(e.report.wave)} is invalid: {len(e.report.errors)} error(s); "
                      "nothing was built[/red]")
            return 1
        except SettingsError as e:
            err.print(f"[red]{escape(str(e))}[/red]")
            return 2
    # the pages read each wave where it was named (a wave folder that is a link keeps its name, the
    # id); the refusals and the stamp compare the folders themselves
    named = [paths.wave_dir(x) for x in [wave, *(compare or [])]]
    folder, *others = [p.resolve() for p in named]
    wave_id = waves[0].id
    name = wave_id if not others else "compare-" + "-".join([w.id for w in waves])
    refusal = check_compared_years(waves)
    refusal = refusal or (check_out_dir(out_dir, [folder, *others]) if out_dir is not None
                          else check_default_target(name, wave_id, folder))
    if refusal:
        err.print(f"[red]{escape(refusal)}; nothing was built[/red]")
        return 2
    base = (out_dir.expanduser() if out_dir is not None else paths.BUILD / name).resolve()
    target = edition_dir(base, lang)
    paths.BUILD.mkdir(exist_ok=True)
    from analysis.report.assets import ensure_mathjax

    if not ensure_mathjax():
        err.print("[red]MathJax is missing and could not be fetched from the npm registry; "
                  "formulas would need a CDN. Connect once, or copy _build/.assets/ from another checkout.[/red]")
        return 1
    from analysis.publishing.figures import cjk_font

    if lang == "zh" and cjk_font() is None:
        err.print("[yellow]no CJK font is installed (Debian fonts-noto-cjk): the Chinese edition's figures "
                  "draw their Chinese labels as empty boxes; install one and rebuild with --force[/yellow]")
    # the execution cache is keyed on every input but those a page declares it reads (models):
    # their hashes are written into the pages that declare them (declare_inputs); the build's
    # key covers them all
    declared = {"models": hashlib.sha256(paths.MODELS_CONFIG.read_bytes()).hexdigest()}
    cache_key = execution_cache_key([folder, *others])
    key = hashlib.sha256((cache_key + "".join(declared.values())).encode()).hexdigest()[:16]
    if pdf is None:
        pdf = chromium() is not None
    elif pdf and chromium() is None:
        err.print("[red]the PDF edition needs Chromium (apt-get install chromium); nothing was built[/red]")
        return 2
    book = book_hash()[:16]
    # the editions linked: this one and those beside it built from the same inputs, book and
    # profile pages; one built from others says other numbers (the English build drops it)
    outdated: list[str] = []
    if editions is None:
        built = [e for e in i18n.LANGS if e != lang and (edition_dir(base, e) / "html" / "index.html").exists()]
        outdated = [e for e in built if not edition_is_current(edition_dir(base, e), key, book, profiles_enabled)]
        editions = tuple(e for e in i18n.LANGS if e == lang or (e in built and e not in outdated))
    # a build of the same inputs but another edition set, PDF or profile pages is another report
    stamp = (f"{key}:{book}:{lang}:{','.join(editions)}:{'pdf' if pdf else 'no-pdf'}:"
             f"{'profiles' if profiles_enabled else 'no-profiles'}\n")
    if not force and (target / "inputs").exists() and (target / "inputs").read_text() == stamp \
            and (target / "html" / "index.html").exists():
        err.print(f"[green]report of {escape(name)} is up to date (inputs {key}); nothing to do "
                  f"(--force rebuilds): {escape(str(target / 'html' / 'index.html'))}[/green]")
        return 0
    cfg = read_yaml(paths.ROOT / "_config.yml")
    repository = str((cfg.get("repository") or {}).get("url") or "")
    cfg.setdefault("html", {})["extra_footer"] = footer(waves[0], repository, lang)
    cache = (cache_root or paths.BUILD / ".jupyter_cache") / f"{name}-{cache_key}"
    if lang != "en":
        cache = cache.with_name(f"{cache.name}-{lang}")
        cfg["title"] = i18n._(str(cfg.get("title", "")), lang)
        cfg.setdefault("sphinx", {}).setdefault("config", {})["language"] = i18n.SPHINX_LANGUAGE[lang]
    results = cache.with_name(cache.name + "-results")      # per edition: model results carry labels
    cfg.setdefault("execute", {})["cache"] = str(cache)
    from analysis.report.assets import STATIC_DIR

    cfg.setdefault("sphinx", {}).setdefault("config", {})["html_static_path"] = [str(STATIC_DIR)]   # jupyter-book maps execute.cache → nb_execution_cache_path
    for stale in stale_folders(name, target):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-{os.getpid()}-", dir=paths.BUILD))
    # the scored study: computed once here, loaded by every page kernel; results computed by one
    # page (models, sensitivity) are stored beside it for the others
    from analysis.estimation.study import build_study
    from analysis.publishing.provenance import COMMIT_ENV, pinned_commit
    from analysis.report.context import CACHE_ENV, STUDY_ENV, save_study
    from analysis.report.numbering import TOC_ENV

    from analysis.estimation.index import IndexConfigError
    from analysis.estimation.sensitivity import check_constructions

    try:                                   # settings that cannot weight this wave's fields: refused
        study = build_study(waves[0])      # here, before any page runs (not a page failing late)
        check_constructions(study)
    except IndexConfigError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        err.print(f"[red]{escape(str(e))}: the index's settings do not fit wave {escape(wave_id)}; "
                  "nothing was built[/red]")
        return 2
    study_file = save_study(study, results)
    # the build's source folder: links to the project's pages and data, and the generated
    # province profiles (written here, never into the project)
    from analysis.report.profiles import FOLDER, INDEX, write_profiles

    src = tmp / "src"
    src.mkdir()
    (src / "data").symlink_to(paths.ROOT / "data", target_is_directory=True)
    left = i18n.write_translated_book(src / "book", lang)     # copies: the build adds a cell to each
    if left:
        err.print(f"[red]{left} prose message(s) of the {i18n.NAMES[lang]} edition are not translated "
                  "(python -m analysis.i18n lists them); nothing was built[/red]")
        shutil.rmtree(tmp, ignore_errors=True)
        return 1
    if profiles_enabled:
        from analysis.report.pages.profile import published_provinces

        profiles = write_profiles(src / FOLDER, lang, published_provinces(study))
    else:
        profiles = None
    toc = book_toc(waves[0], compare=bool(others), profiles=profiles, lang=lang)
    toc_file = tmp / "_toc.yml"
    toc_file.write_text(dump_yaml(toc), encoding="utf-8")
    # what every page's kernel reads besides the wave and the package: the book's order (its
    # tables are numbered by its place) and the edition's catalogs of messages
    always = {"toc": hashlib.sha256(toc_file.read_bytes()).hexdigest(), "messages": messages_hash(lang)}
    try:
        for page in sorted([*src.glob("book/*.md"), *src.glob(f"{FOLDER}/*.md")]):
            declare_inputs(page, {**declared, **always}, page.relative_to(src).as_posix())
    except ValueError as e:
        err.print(f"[red]{escape(str(e))}; nothing was built[/red]")
        shutil.rmtree(tmp, ignore_errors=True)
        return 2
    cfg_file = tmp / "_config.yml"
    cfg_file.write_text(dump_yaml(cfg), encoding="utf-8")
    pdf_name = (f"ruralgov-{name}.pdf" if lang == "en" else f"ruralgov-{name}-{lang}.pdf") if pdf else ""
    env = {**os.environ, paths.WAVE_ENV: str(named[0]), "PYTHONHASHSEED": "0", PDF_ENV: pdf_name,
           paths.COMPARE_ENV: json.dumps([str(p) for p in named[1:]]) if others else "",
           STUDY_ENV: str(study_file), CACHE_ENV: str(results), TOC_ENV: str(toc_file),
           REPOSITORY_ENV: repository, i18n.LANG_ENV: lang, i18n.EDITIONS_ENV: ",".join(editions),
           COMMIT_ENV: pinned_commit()}        # the commit the footer cites, for every page
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(src),
           "--config", str(cfg_file), "--toc", str(toc_file),
           "--path-output", str(tmp), "-W", "-n", "--keep-going", "--all"]
    err.print(f"building {escape(name)} (inputs {key}) into {escape(str(target))} …")
    from analysis.report.execute import TIMEOUT, default_jobs

    jobs = default_jobs() if jobs is None else jobs
    ahead: dict[str, tuple[float, str | None]] = {}
    if jobs > 1:
        sources = {p: src / f"{p}.md" for p in _pages(toc_file) if (src / f"{p}.md").is_file()}
        # the province profiles, one template, may share kernels (analysis.report.execute)
        shared = frozenset(p for p in sources if p.startswith(f"{FOLDER}/") and p != f"{FOLDER}/{INDEX}")
        execute = cfg.get("execute") or {}
        ahead = _execute_ahead(cache, sources, env, jobs, int(execute.get("timeout", TIMEOUT)),
                               log=tmp / "build.log", shared=shared,
                               allow_errors=bool(execute.get("allow_errors", False)))
    code, failed, executed = _run(cmd, env, tmp / "build.log", verbose)
    # a page executed ahead is then found in the cache by the book: one page, executed (the log
    # names it book/x.md, the toc book/x)
    executed.update({f"{p}.md": f"{secs:.2f} s" for p, (secs, error) in ahead.items() if error is None})
    html = tmp / "_build" / "html"
    if code != 0 or not (html / "index.html").exists():
        for page, msg in failed.items():
            err.print(f"[red]page failed: {escape(page)}: {escape(msg)}[/red]")
        logs = paths.BUILD / "logs"
        logs.mkdir(exist_ok=True)
        log = logs / f"{name}-failed.log"
        shutil.move(str(tmp / "build.log"), log)
        shutil.rmtree(tmp, ignore_errors=True)
        err.print(f"[red]build failed (exit {code}); the previous report, if any, is kept in "
                  f"{escape(str(target))}; full log: {escape(str(log))}[/red]")
        return 1
    n_tables = tables_archive(html)
    landing_page(html, str(cfg.get("title", "")), lang)
    if pdf_name:
        try:
            build_pdf(cmd, env, tmp, html, pdf_name, toc["root"])
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            logs = paths.BUILD / "logs"
            logs.mkdir(exist_ok=True)
            if (tmp / "pdf.log").exists():
                shutil.move(str(tmp / "pdf.log"), logs / f"{name}-pdf-failed.log")
            shutil.rmtree(tmp, ignore_errors=True)
            err.print(f"[red]PDF edition failed: {escape(str(e))}; the previous report, if any, is kept in "
                      f"{escape(str(target))} (build without it: --no-pdf)[/red]")
            return 1
    # stage beside the target (same filesystem), then swap: the old report stays until the end
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".staging-{target.name}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    shutil.move(str(html), staging / "html")
    shutil.move(str(tmp / "build.log"), staging / "build.log")
    if pdf_name:
        (staging / "pdf").mkdir()
        os.symlink(Path("..") / "html" / pdf_name, staging / "pdf" / pdf_name)
    (staging / "inputs").write_text(stamp)
    for other in i18n.LANGS if lang == "en" else ():       # the other editions live inside
        if other != "en" and other not in outdated and edition_dir(target, other).is_dir():
            shutil.move(str(edition_dir(target, other)), edition_dir(staging, other))
    (staging / STAMP).write_text(json.dumps({"tool": "ruralgov build", "wave": wave_id,
                                             "wave_folder": str(folder),
                                             "compare": [str(o) for o in others]}, indent=2) + "\n",
                                 encoding="utf-8")
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    n_cached = sum(v == "cache" for v in executed.values())
    err.print(f"pages executed: {len(executed) - n_cached}, taken from the cache: {n_cached}; "
              f"{n_tables} tables' and figures' data in {TABLES_ZIP}")
    for other in outdated:
        said = ("was removed" if lang == "en" else "is not linked from this one")
        err.print(f"[yellow]the {i18n.NAMES[other]} edition beside it was built from other inputs and "
                  f"{said}; build it again with --lang {other}[/yellow]")
    err.print(f"[green]report: {escape(str(target / 'html' / 'index.html'))}[/green]")
    return 0
