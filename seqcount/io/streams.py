"""Row-oriented readers of byte streams: JSON Lines and plain text (also .gz or .zst)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import numpy as np

from ..errors import InputError, SchemaError
from .decoded import open_stream, stream_error
from .shards import ARROW_ERRORS, Column, ReadRequest, Shard, short_error


def _utf8(text: str) -> bytes:
    """UTF-8 bytes of a decoded JSON string; bytes that were invalid come back as they were."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate written as a JSON escape
            return text.encode("utf-8", "surrogatepass")


def _text_batch(docs: list[bytes], nulls: int) -> Column:
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    return Column(np.frombuffer(b"".join(docs), dtype=np.uint8), offsets, nulls)


_MASK64 = (1 << 64) - 1


def _ids_batch(docs: list[list[int]], nulls: int) -> Column:
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    flat = [x for d in docs for x in d]
    try:
        values = np.array(flat, dtype=np.int64).view(np.uint64)
    except OverflowError:
        values = np.array([x & _MASK64 for x in flat], dtype=np.uint64)
    return Column(values, offsets, nulls)


def _json_hint(path: str, line_no: int) -> str:
    """For a bad first line of a ``.json`` file: it may be one JSON document, not JSON Lines."""
    if line_no == 1 and path.endswith(".json"):
        return "; .json files are read as JSON Lines, one object per line"
    return ""


def _json_type(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(v), "a number"
    )


class JsonlReader:
    """JSON Lines (one JSON object per line; .gz / .zst streamed), parsed a line at a time."""

    name = "jsonl"

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path, column, text = shard.path, request.column, request.kind == "text"
        docs: list = []
        nulls = 0
        line_no = 0
        seen = False
        held = 0  # bytes in docs
        error = None
        # buffered for readline; a read error loses only the line it cuts (see open_stream)
        with io.BufferedReader(open_stream(shard), buffer_size=1 << 20) as f:
            while True:
                try:
                    line = f.readline()
                except ARROW_ERRORS as e:
                    error = stream_error(shard, f"near line {line_no + 1}", e)
                    break
                if not line:
                    break
                line_no += 1
                if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]  # a UTF-8 byte-order mark
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line.decode("utf-8", "surrogateescape"))
                except ValueError as e:
                    hint = _json_hint(path, line_no)
                    request.reject(path, line_no, f"malformed JSON ({short_error(e)}){hint}")
                    continue
                if not isinstance(obj, dict):
                    hint = _json_hint(path, line_no)
                    request.reject(
                        path, line_no, f"expected a JSON object, got {_json_type(obj)}{hint}"
                    )
                    continue
                if column not in obj:
                    if not seen:
                        fields = ", ".join(list(obj)[:20]) or "none"
                        raise SchemaError(
                            f"{path}: line {line_no}: no field {column!r} (fields: {fields})"
                        )
                    request.reject(path, line_no, f"no field {column!r}")
                    continue
                seen = True
                value = obj[column]
                if value is None:
                    nulls += 1
                    docs.append(b"" if text else [])
                elif text:
                    if not isinstance(value, str):
                        request.reject(
                            path,
                            line_no,
                            f"field {column!r} is {_json_type(value)}, expected a string",
                        )
                        continue
                    docs.append(_utf8(value))
                    held += len(docs[-1])
                else:
                    if not isinstance(value, list) or not all(
                        type(x) is int and -(1 << 63) <= x < (1 << 64) for x in value
                    ):
                        request.reject(
                            path,
                            line_no,
                            f"field {column!r} is not a list of 64-bit integers",
                        )
                        continue
                    docs.append(value)
                    held += 8 * len(value)
                if len(docs) >= request.batch_rows or held >= request.batch_bytes:
                    yield _text_batch(docs, nulls) if text else _ids_batch(docs, nulls)
                    docs, nulls, held = [], 0, 0
        if docs:  # also the rows read before an error: they stay counted
            yield _text_batch(docs, nulls) if text else _ids_batch(docs, nulls)
        if error is not None:
            raise error


class TextReader:
    """Plain text: one document per file (streamed in blocks), or one per line."""

    name = "txt"

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        if request.kind != "text":
            raise SchemaError(
                f"{shard.path}: a text file has no token-id column; tokens_column needs "
                "Parquet, Arrow or JSON Lines",
                "tokens_column",
            )
        errors: list[InputError] = []
        with open_stream(shard) as f:
            # the blocks end at a read error, the documents read up to it are passed on (a cut
            # line or file as the last one), then the error is raised
            blocks = self._blocks(shard, f, request.block_bytes, errors)
            if request.txt_documents == "lines":
                yield from self._lines(blocks, request.block_bytes)
            else:
                yield from self._whole(blocks, errors)
        if errors:
            raise errors[0]

    @staticmethod
    def _blocks(shard: Shard, f: io.RawIOBase, size: int, errors: list) -> Iterator[np.ndarray]:
        """Blocks of ``size`` bytes (the last one shorter); a read error ends them and is
        appended to ``errors``."""
        read = 0
        while True:
            block = np.empty(size, np.uint8)
            try:
                n = f.readinto(block)  # fills the block, but at the end or before an error
            except ARROW_ERRORS as e:
                errors.append(stream_error(shard, f"after byte {read}", e))
                return
            if not n:
                return
            read += n
            yield block if n == size else block[:n].copy()

    @staticmethod
    def _whole(blocks: Iterator[np.ndarray], errors: list) -> Iterator[Column]:
        """The file is one document; each block but the last leaves it open."""
        prev = next(blocks, None)
        if prev is None:
            if not errors:  # an empty file; an unreadable one holds no document
                yield Column(np.empty(0, np.uint8), np.zeros(2, np.int64))
            return
        for block in blocks:
            yield Column(prev, np.array([0, prev.shape[0]], np.int64), open_tail=True)
            prev = block
        yield Column(prev, np.array([0, prev.shape[0]], np.int64))

    @staticmethod
    def _lines(blocks: Iterator[np.ndarray], block_bytes: int) -> Iterator[Column]:
        """Each line is a document (without its "\n" or "\r\n"); a long line is streamed."""
        carry = np.empty(0, np.uint8)
        open_line = False  # part of the current line was already passed on
        for block in blocks:
            buf = np.concatenate([carry, block]) if carry.shape[0] else block
            nl = np.flatnonzero(buf == 10)
            if nl.shape[0] == 0:
                if buf.shape[0] > block_bytes:
                    yield Column(buf, np.array([0, buf.shape[0]], np.int64), open_tail=True)
                    carry, open_line = np.empty(0, np.uint8), True
                else:
                    carry = buf
                continue
            starts = np.concatenate([[0], nl[:-1] + 1])
            ends = nl.copy()
            cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
            ends[cr] -= 1
            whole = nl[-1] + 1  # the complete lines, less their "\n" and "\r\n"
            keep = np.ones(whole, dtype=bool)
            keep[nl] = False
            keep[ends[cr]] = False
            offsets = np.zeros(starts.shape[0] + 1, dtype=np.int64)
            np.cumsum(ends - starts, out=offsets[1:])
            yield Column(buf[:whole][keep], offsets)
            carry, open_line = buf[nl[-1] + 1 :], False
        if carry.shape[0] or open_line:
            yield Column(carry, np.array([0, carry.shape[0]], np.int64))
