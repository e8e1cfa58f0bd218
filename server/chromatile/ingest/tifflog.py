"""tifffile's log lines, caught and said in our words: one line per problem, never tifffile's own text.

tifffile reports what it works around in a file (a tag it cannot read, metadata that does not match the
pages) on the ``tifffile`` logger, which would print them raw on stderr. While :func:`captured` is
active those records go to a list instead; :func:`describe` turns them into one line per problem.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import tifffile

_LOGGER = logging.getLogger("tifffile")
_lock = threading.Lock()
_active: list[list[str]] = []  # innermost capture last; records from any thread go there


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        with _lock:
            if _active:
                _active[-1].append(record.getMessage())


_HANDLER = _Collect(logging.DEBUG)


@contextmanager
def captured() -> Iterator[list[str]]:
    """Collect tifffile's log messages (of every thread) into the yielded list; nothing is printed."""
    messages: list[str] = []
    with _lock:
        if not _active:
            _LOGGER.addHandler(_HANDLER)
            _LOGGER.propagate = False
        _active.append(messages)
    try:
        yield messages
    finally:
        with _lock:
            _active.remove(messages)
            if not _active:
                _LOGGER.removeHandler(_HANDLER)
                _LOGGER.propagate = True


def _tag_name(code: str) -> str:
    name = tifffile.TIFF.TAGS.get(int(code), None)
    return f"{name} ({code})" if name else code


def _detail(text: str) -> str:
    """``TiffFileError('<tifffile.TiffTag 305 @166> invalid data type 99')`` -> ``invalid data type 99``."""
    match = re.fullmatch(r"\w+\((['\"])(.*)\1\)", text.strip())
    text = match.group(2) if match else text
    return re.sub(r"<tifffile\.\w+[^>]*>\s*", "", text).strip() or "unknown reason"


_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"<TiffTag\.fromfile> raised (?P<exc>\w+\(['\"]<tifffile\.TiffTag (?P<tag>\d+) .*)"),
     "skipped unreadable TIFF tag {tag}: {detail}"),
    (re.compile(r"<TiffTag\.fromfile> raised (?P<exc>.*)"), "skipped an unreadable TIFF tag: {detail}"),
    (re.compile(r"shaped series shape does not match page shape"),
     "the image shape recorded in the file's description does not match its pages; the pages were read "
     "as stored"),
    (re.compile(r"shaped series axes do not match shape"),
     "the axes recorded in the file's description do not match its shape; they were ignored"),
    (re.compile(r"(?P<kind>OME|ImageJ|imagej|ScanImage|Philips|Indica|NDPI|generic) series raised (?P<exc>.*)"),
     "could not use the file's {kind} layout ({detail}); the pages were read as stored"),
    (re.compile(r"<(?P<kind>\w+)_metadata> raised (?P<exc>.*)"),
     "could not read the file's {kind} metadata ({detail}); it was ignored"),
]


def in_our_words(message: str) -> str:
    """One tifffile log message as a short sentence (without the file name)."""
    message = " ".join(re.sub(r"^<tifffile\.\w+ [^>]*>\s*", "", message.strip()).split())
    for pattern, template in _RULES:
        match = pattern.search(message)
        if match:
            groups = match.groupdict()
            return template.format(
                tag=_tag_name(groups["tag"]) if groups.get("tag") else "",
                kind=groups.get("kind", "").replace("imagej", "ImageJ"),
                detail=_detail(groups.get("exc") or ""),
            )
    return f"TIFF reader: {_detail(message)}"


def describe(path: object, messages: list[str]) -> list[str]:
    """One line per distinct problem, ``<path>: <problem>`` (``(N times)`` when repeated), first seen first."""
    counts: dict[str, int] = {}
    for message in messages:
        line = in_our_words(message)
        counts[line] = counts.get(line, 0) + 1
    return [f"{path}: {line}" + (f" ({n} times)" if n > 1 else "") for line, n in counts.items()]
