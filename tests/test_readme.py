"""The README and docs/ say what the code does: short README, runnable examples, live links.

Each test reads the Markdown as a user would (code blocks, tables, links) and checks it against
the package: the README's Python and quick-start commands run, its transcripts match what the
commands print, its command overview names every CLI command, every relative link resolves, and
docs/cli.md is what ``cog -r docs/cli.md`` would write today.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import seqcount
from seqcount.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MARKDOWN = [README, *sorted(DOCS.glob("*.md"))]
MAX_README_LINES = 300

# Lines of a transcript that change from run to run: the timing of a count, and the note a
# first run prints while it compiles the kernels.
TIMING = re.compile(r" in \d+\.\d+ s \([\d.]+ [kM]?tokens/s\)")
FIRST_RUN_ONLY = "compiling kernels"


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a Markdown text, as (info string, body) pairs."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def section(text: str, title: str) -> str:
    """The body of the level-2 section ``## title`` (up to the next level-2 heading)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README.md has no section '## {title}'"
    return match.group(1)


def quick_start() -> list[tuple[list[str], list[str]]]:
    """The README quick start's commands: (arguments after ``seqcount``, transcript lines)."""
    commands: list[tuple[list[str], list[str]]] = []
    for info, body in fenced_blocks(section(README.read_text(), "Quick start")):
        if info != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                assert words[0] == "seqcount", f"a quick-start command that is not seqcount: {line}"
                commands.append((words[1:], []))
            else:
                commands[-1][1].append(line)
    return commands


def corpus_dir(tmp_path: Path) -> Path:
    """A scratch directory holding ``data/`` (a link to the repository's sample corpus)."""
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    return tmp_path


def test_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move material into docs/"


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = [body for info, body in fenced_blocks(README.read_text()) if info == "python"]
    assert blocks, "README.md has no ```python block"
    monkeypatch.chdir(corpus_dir(tmp_path))
    for i, body in enumerate(blocks):
        exec(compile(body, f"README.md python block {i + 1}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip(), "the README's Python example prints nothing"


def test_docs_python_blocks_run(tmp_path, monkeypatch, capsys):
    """The Python of docs/ runs, in page order, after a count of data/ into seqcount-out/."""
    monkeypatch.chdir(corpus_dir(tmp_path))
    seqcount.write_outputs(seqcount.count_corpus("data/"), "seqcount-out")
    ran = 0
    for page in MARKDOWN[1:]:
        for i, (info, body) in enumerate(fenced_blocks(page.read_text())):
            if info != "python":
                continue
            try:
                exec(compile(body, f"{page.name} block {i + 1}", "exec"), {"__name__": "__docs__"})
            except ModuleNotFoundError as e:
                # an example of using seqcount from another tool (Airflow) that tests lack
                if e.name.split(".")[0] in ("seqcount", "datasketch", "numpy"):
                    raise
                continue
            ran += 1
    assert ran >= 2, "the Python examples of docs/ did not run"
    assert capsys.readouterr().out.strip()


def test_readme_quick_start_commands_run_and_print_their_transcripts(tmp_path):
    commands = quick_start()
    assert [args[0] for args, _ in commands][:1] == ["count"], "the quick start starts elsewhere"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cwd = corpus_dir(tmp_path)
    for args, transcript in commands:
        proc = subprocess.run(
            [sys.executable, "-m", "seqcount", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        shown = "seqcount " + shlex.join(args)
        assert proc.returncode == 0, f"{shown} exited {proc.returncode}:\n{proc.stderr}"
        printed = {TIMING.sub("", ln) for ln in (proc.stdout + proc.stderr).splitlines()}
        for line in transcript:
            if not line.startswith(FIRST_RUN_ONLY):
                assert TIMING.sub("", line) in printed, f"{shown} no longer prints: {line}"


def test_command_overview_names_every_command():
    rows = re.findall(r"^\| `seqcount (\w+)", section(README.read_text(), "Commands"), re.M)
    assert sorted(rows) == sorted(cli.commands), "the README's command table is out of date"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lower case, punctuation dropped)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file (headings inside code blocks do not count)."""
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    return {github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked here
        file, _, fragment = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists():
            broken.append(target)
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(target)
    assert not broken, f"{page.name}: links to nothing: {broken}"


def test_docs_cli_md_is_up_to_date():
    try:
        from cogapp import Cog
    except ImportError:
        pytest.fail("cogapp is not installed: pip install cogapp (needed to check docs/cli.md)")
    path = DOCS / "cli.md"
    text = path.read_text()
    regenerated = Cog().process_string(text, fname=str(path))
    assert regenerated == text, "docs/cli.md is out of date: run `cog -r docs/cli.md`"
    for name in cli.commands:
        assert f"## seqcount {name}\n" in text, f"docs/cli.md lacks seqcount {name}"
