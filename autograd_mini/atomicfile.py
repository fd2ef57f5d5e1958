"""Write a file atomically: the one helper behind ``Module.save``, ``render_graph`` and the demos.

The bytes go to a temporary file in the target's folder, named ``.<name>.<pid>.<random>.tmp``
so it is recognisable, are flushed to disk, then ``os.replace`` puts them in place: a reader sees
the old file or the new one, never half of one.

* Permissions: a new file gets the usual ones (``0o666`` minus the umask, applied by the kernel
  when the temporary is created: the process umask is never read or changed, which would race
  with other threads); an existing target keeps its mode (a ``0600`` model stays private).
* A writer killed mid-write (SIGKILL, power loss) leaves its temporary behind.  The next write of
  the same target removes those whose writer process is gone; a live writer's (another thread or
  process saving the same file right now) is never touched.
* Errors are the ``OSError`` the system gave, naming the user's path, never the temporary.
* Where ``open()`` would write, so does this: a symbolic link is followed (the file it points
  to is replaced, the link stays), and a target that is not a regular file (``/dev/null``,
  ``/dev/stdout``, a named pipe) is written into directly, as there is nothing to replace
  atomically: ``os.replace`` would put a regular file in its place (as root, even
  ``/dev/null``'s).  A named pipe nobody reads is an error (ENXIO), not a hang.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat

__all__ = ["remove_stale_temporaries", "temporary_name", "write_atomic"]

# Longest target name kept whole in a temporary's name: with the pid, 8 random hex digits and
# the dots, the temporary stays under the usual 255-byte NAME_MAX.
_NAME_KEEP = 200


def _stem(name: str) -> str:
    """``name`` as it appears in its temporaries: itself, or (too long) a prefix and a hash."""
    if len(name.encode("utf-8", "surrogateescape")) <= _NAME_KEEP:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{name[:40]}~{digest}"


def temporary_name(target: str, pid: int | None = None) -> str:
    """A fresh temporary's path for ``target``: ``<folder>/.<name>.<pid>.<8 hex digits>.tmp``."""
    folder, name = os.path.split(target)
    pid = os.getpid() if pid is None else pid
    return os.path.join(folder, f".{_stem(name)}.{pid}.{secrets.token_hex(4)}.tmp")


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine); unknown counts as alive."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: beyond any pid
        return False
    except (PermissionError, OSError):  # exists but is someone else's, or cannot tell
        return True
    return True


def remove_stale_temporaries(target: str) -> list[str]:
    """Delete the temporaries of ``target`` whose writer process has died; returns their paths.

    Only names of exactly our pattern are considered, and only when their pid is not running:
    a concurrent writer's temporary, or anything else in the folder, stays.
    """
    folder, name = os.path.split(target)
    # ".<name>.<pid>.<letters and digits>.tmp": ours have 8 hex digits; any such tail counts
    pattern = re.compile(re.escape(f".{_stem(name)}.") + r"(\d{1,20})\.[0-9A-Za-z]{1,64}\.tmp")
    removed: list[str] = []
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return removed
    for entry in sorted(entries):
        match = pattern.fullmatch(entry)
        if match is None or _pid_alive(int(match.group(1))):
            continue
        path = os.path.join(folder, entry)
        with contextlib.suppress(OSError):  # another writer may have removed it first
            os.unlink(path)
            removed.append(path)
    return removed


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring).

    Raises the ``OSError`` subclass the system raised (``FileNotFoundError`` for a missing
    folder, ``PermissionError``, ``IsADirectoryError``, ...), with ``filename`` the user's
    ``path``; the temporary is removed on any failure, the old file is left as it was.
    """
    where = os.fspath(path)
    # absolute, so the temporary and the target visibly share a folder; through symbolic links,
    # so that the file a link points to is replaced, not the link
    target = os.path.realpath(where)
    tmp = temporary_name(target)
    try:
        try:
            st: os.stat_result | None = os.stat(target)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            _write_into(target, data)
            return
        remove_stale_temporaries(target)
        mode = None if st is None else stat.S_IMODE(st.st_mode)
        # 0o666 minus the umask (the kernel applies it); O_EXCL: never follow or reuse a name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                if mode is not None:
                    os.fchmod(f.fileno(), mode)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as e:
        if e.errno is None or (e.filename == where and e.filename2 is None):
            raise
        # name the user's file, not the temporary (same errno, so the same OSError subclass)
        raise OSError(e.errno, e.strerror, where) from None


def _write_into(target: str, data: bytes) -> None:
    """Write ``data`` into a device or a named pipe: opened without blocking (a pipe with no
    reader is ENXIO at once, not a hang), then written with blocking writes."""
    fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
