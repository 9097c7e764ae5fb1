"""What every command shares: exit statuses, error translation, logs and the progress bar.

Library errors (:class:`~seqcount.errors.SeqcountError`) become a one-line ``Error: ...`` on
stderr: status 2 for an option at fault (a :class:`~seqcount.errors.ConfigError` that names its
parameters, which are respelled as the command's flags), else status 1.
"""

from __future__ import annotations

import json
import re
import sys
import time
from contextlib import contextmanager

import click

from ..errors import ConfigError, SeqcountError

#: Exit statuses (also in docs/inputs.md): success; failure (an error message says why);
#: command-line usage error; finished, but some input was skipped under --on-error skip.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3


class UsageFailure(click.ClickException):
    """A malformed or conflicting option: one line, exit status 2."""

    exit_code = EXIT_USAGE


def flag_of(name: str) -> str:
    """The flag of the running command's parameter ``name`` (``num_perm`` → ``--num-perm``)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        for p in ctx.command.params:
            if p.name == name and getattr(p, "opts", None) and not getattr(p, "hidden", False):
                return max(p.opts, key=len)
    return "--" + name.replace("_", "-")


def respell(e: SeqcountError) -> str:
    """The message of ``e`` with each parameter it names spelled as the command's flag.

    Library messages name a parameter once, before any path it is about; only that first
    mention is respelled, and only as a whole word outside a path or a longer name
    ("tokenizer.json", "near_dup_n", "runs/out").
    """
    message = str(e)
    for name in e.params:
        word = rf"(?<![\w./\\-]){re.escape(name)}(?![\w/\\-]|\.\w)"
        message = re.sub(word, flag_of(name), message, count=1)
    return message


@contextmanager
def errors(log=None):
    """Turn library errors into one-line messages and exit statuses (and a JSON ``error``
    event when logging JSON)."""
    try:
        yield
    except ConfigError as e:
        message = respell(e)
        code = EXIT_USAGE if e.params else EXIT_FAILED
        if log is not None:
            log({"event": "error", "message": message, "exit_code": code}, force=True)
        if code == EXIT_USAGE:
            raise UsageFailure(message) from None
        raise click.ClickException(message) from None
    except SeqcountError as e:
        message = respell(e)
        if log is not None:
            log({"event": "error", "message": message, "exit_code": EXIT_FAILED}, force=True)
        raise click.ClickException(message) from None
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


class JsonLog:
    """``--log-format json``: one JSON object per line on stdout, flushed at once; with
    ``quiet`` only ``error`` events."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet

    def __call__(self, event: dict, force: bool = False) -> None:
        if self.quiet and not force:
            return
        event = {"time": round(time.time(), 3), **event}
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def result(self, result, written: dict, code: int) -> None:
        """The ``checkpoint`` events of the curve, then the ``summary``."""
        for tokens in sorted({r.tokens for r in result.rows}):
            rows = [r for r in result.rows if r.tokens == tokens]
            self({"event": "checkpoint", "tokens": tokens, "documents": rows[0].documents,
                  "unique": {str(r.n): round(r.unique) for r in rows}})  # fmt: skip
        self({
            "event": "summary", "exit_code": code, "shards": len(result.shards),
            "documents": result.documents, "tokens": result.tokens,
            "skipped_rows": result.skipped.rows, "skipped_shards": result.skipped.shards,
            "unique": {str(n): round(r.unique) for n, r in result.final.items()},
            "elapsed_s": round(result.elapsed, 3), "outputs": written,
        })  # fmt: skip


def text_event(event: dict) -> None:
    """Batch progress as plain lines on stderr (cron mails, CI logs)."""
    kind = event["event"]
    if kind == "start":
        line = f"{event['shards']} shard(s), {event['jobs']} job(s) ({event['engine']})"
    elif kind in ("shard_finished", "shard_reused"):
        head = f"[{event['shard'] + 1}/{event['shards']}]"
        tokens = f"{event['tokens']:,} tokens"
        if "error" in event:
            line = f"{head} skipped {event['path']} from there on: {event['error']}"
        elif kind == "shard_finished":
            line = f"{head} counted {event['path']}: {tokens} in {event['seconds']:.2f} s"
        else:
            line = f"{head} reused  {event['path']}: {tokens} (--state)"
    elif kind == "message":
        line = "note: " + event["message"]
    else:
        return
    click.echo(line, err=True)


class ProgressBar:
    """A click progress bar with tokens/s, only on a terminal.

    It counts documents when every shard's row count is known (Parquet), else shards.
    """

    def __init__(self):
        self.bar = None
        self.by_docs = True
        self.last = 0.0
        self.latest = None

    @staticmethod
    def _item(p, tokens: int) -> str:
        rate = tokens / p.elapsed if p.elapsed > 0 else 0.0
        return f"shard {p.shard + 1}/{p.shards}  {tokens:,} tokens  {rate / 1e6:.2f} M tok/s"

    def __call__(self, p) -> None:
        now = time.monotonic()
        self.latest = p
        if self.bar is None:
            self.by_docs = p.total_documents is not None
            self.bar = click.progressbar(
                length=max(p.total_documents if self.by_docs else p.shards, 1),
                label="counting",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda s: s,
            )
            self.bar.__enter__()
        elif now - self.last < 0.1:
            return
        self.last = now
        done = p.documents if self.by_docs else p.shard
        self.bar.update(max(0, done - self.bar.pos), current_item=self._item(p, p.tokens))

    def close(self, tokens: int | None = None) -> None:
        """Fill the bar; its last line shows ``tokens`` (the whole input's) when given. A
        second call does nothing."""
        if self.bar is not None and self.latest is not None:
            p = self.latest
            item = self._item(p, p.tokens if tokens is None else tokens)
            self.bar.update(self.bar.length - self.bar.pos, current_item=item)
            self.bar.__exit__(None, None, None)
            self.latest = None


class OneLineGroup(click.Group):
    """The ``seqcount`` group: every error is one line on stderr (click's usage errors too,
    with a pointer to ``--help`` instead of the usage block) and Ctrl-C is ``Interrupted.``
    with status 130 wherever it lands."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx is not None else "seqcount"
            click.echo(f"Error: {e.format_message()} (see '{where} --help')", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"Error: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)
