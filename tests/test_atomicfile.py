"""Atomic writes (autograd_mini.atomicfile) as MLP.save and render_graph use them: permissions
without touching the umask, recognisable temporaries cleaned up after a killed writer, errors that
name the user's path (issue 13, items 2 and 3)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from autograd_mini import Value
from autograd_mini.atomicfile import remove_stale_temporaries, temporary_name, write_atomic
from autograd_mini.nn import MLP

TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp")


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def _with_umask(mask: int):  # type: ignore[no-untyped-def]
    class _Umask:
        def __enter__(self) -> None:
            self.old = os.umask(mask)

        def __exit__(self, *exc: object) -> None:
            os.umask(self.old)

    return _Umask()


# --- permissions --------------------------------------------------------------------------


def test_save_never_changes_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_umask(mask: int) -> int:
        raise AssertionError("save changed the process umask")

    monkeypatch.setattr(os, "umask", no_umask)
    MLP(2, [3, 1], seed=0).save(tmp_path / "m.json")
    assert MLP.load(tmp_path / "m.json").state_dict() == MLP(2, [3, 1], seed=0).state_dict()


def test_new_file_gets_the_umask_permissions(tmp_path: Path) -> None:
    with _with_umask(0o027):
        MLP(2, [3, 1], seed=0).save(tmp_path / "m.json")
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_save_keeps_the_mode_of_an_existing_file(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "m.json"
    path.write_text("{}")
    path.chmod(mode)
    with _with_umask(0o022):
        MLP(2, [3, 1], seed=0).save(path)
    assert path.stat().st_mode & 0o777 == mode
    assert MLP.load(path).state_dict() == MLP(2, [3, 1], seed=0).state_dict()


def test_render_graph_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    from autograd_mini.viz import render_graph

    path = tmp_path / "g.dot"
    path.write_text("old")
    path.chmod(0o600)
    render_graph(Value(1.0, label="x") * 2, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text().startswith("digraph")


def test_saves_from_other_threads_do_not_see_a_changed_umask(tmp_path: Path) -> None:
    # while one thread saves in a loop, files another thread creates keep the umask's mode
    stop = threading.Event()

    def saver() -> None:
        model = MLP(2, [2, 1], seed=0)
        while not stop.is_set():
            model.save(tmp_path / "m.json")

    modes = set()
    with _with_umask(0o077):
        worker = threading.Thread(target=saver)
        worker.start()
        try:
            for i in range(300):
                created = tmp_path / f"f{i}"
                fd = os.open(created, os.O_WRONLY | os.O_CREAT, 0o666)
                os.close(fd)
                modes.add(created.stat().st_mode & 0o777)
        finally:
            stop.set()
            worker.join()
    assert modes == {0o600}


# --- temporaries ----------------------------------------------------------------------------


def test_temporary_names_are_recognisable(tmp_path: Path) -> None:
    name = temporary_name(str(tmp_path / "model.json"))
    match = TEMP.fullmatch(os.path.basename(name))
    assert match is not None
    assert match["name"] == "model.json" and int(match["pid"]) == os.getpid()
    assert os.path.dirname(name) == str(tmp_path)


def test_temporary_of_a_very_long_name_still_fits_a_file_name(tmp_path: Path) -> None:
    long_name = "m" * 250 + ".json"
    name = os.path.basename(temporary_name(str(tmp_path / long_name)))
    assert len(name.encode()) <= 255 and name.startswith(".mmm") and name.endswith(".tmp")
    write_atomic(tmp_path / long_name, b"{}")
    assert os.listdir(tmp_path) == [long_name]


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    dead = tmp_path / f".m.json.{_dead_pid()}.0123abcd.tmp"
    live = tmp_path / f".m.json.{os.getpid()}.89abcdef.tmp"  # a writer in this process, now
    beyond_any_pid = tmp_path / ".m.json.99999999999.x.tmp"
    other_target = tmp_path / f".n.json.{_dead_pid()}.0123abcd.tmp"
    unrelated = tmp_path / ".m.json.notes.tmp"
    for p in (dead, beyond_any_pid, live, other_target, unrelated):
        p.write_text("partial")
    MLP(2, [2, 1], seed=0).save(target)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["m.json", live.name, other_target.name, unrelated.name]
    )


def test_render_graph_removes_stale_temporaries_of_its_files(tmp_path: Path) -> None:
    from autograd_mini.viz import render_graph

    stale = tmp_path / f".g.dot.{_dead_pid()}.00000000.tmp"
    stale.write_text("partial")
    render_graph(Value(2.0, label="x").tanh(), tmp_path / "g.dot")
    assert os.listdir(tmp_path) == ["g.dot"]


def test_remove_stale_temporaries_in_a_missing_folder_is_a_no_op(tmp_path: Path) -> None:
    assert remove_stale_temporaries(str(tmp_path / "missing" / "m.json")) == []


_KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from autograd_mini.nn import MLP

    def stuck(src, dst):  # the temporary is complete on disk: stop right before the rename
        print("writing", flush=True)
        time.sleep(60)

    os.replace = stuck
    MLP(2, [64, 64, 1], seed=0).save(sys.argv[1])
    """
)


def _killed_mid_save(target: Path) -> int:
    """Run a save in a subprocess, SIGKILL it once its temporary is written; its pid."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    return proc.pid


def _temporaries(folder: Path) -> list[re.Match[str]]:
    return [m for p in sorted(os.listdir(folder)) if (m := TEMP.fullmatch(p))]


@pytest.mark.slow
def test_save_after_a_sigkilled_save_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    MLP(2, [2, 1], seed=1).save(target)
    old = target.read_bytes()
    first = _killed_mid_save(target)
    assert [int(m["pid"]) for m in _temporaries(tmp_path)] == [first]
    # the next writer, killed too, first removed the dead one's temporary
    second = _killed_mid_save(target)
    assert [int(m["pid"]) for m in _temporaries(tmp_path)] == [second]
    assert target.read_bytes() == old  # the killed writers never replaced the model
    MLP(2, [2, 1], seed=2).save(target)
    assert os.listdir(tmp_path) == ["m.json"]
    assert MLP.load(target).state_dict() == MLP(2, [2, 1], seed=2).state_dict()


# --- errors name the user's path --------------------------------------------------------------


def test_save_into_a_missing_folder_names_the_users_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "m.json"
    with pytest.raises(FileNotFoundError) as info:
        MLP(2, [2, 1], seed=0).save(path)
    assert info.value.filename == str(path)
    assert str(path) in str(info.value) and ".tmp" not in str(info.value)


def test_save_into_a_read_only_folder_names_the_users_path(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            MLP(2, [2, 1], seed=0).save(folder / "m.json")
    finally:
        folder.chmod(0o700)
    assert info.value.filename == str(folder / "m.json") and ".tmp" not in str(info.value)


def test_render_graph_into_a_missing_folder_names_the_users_path(tmp_path: Path) -> None:
    from autograd_mini.viz import render_graph

    path = tmp_path / "missing" / "a.svg"
    with pytest.raises(FileNotFoundError) as info:
        render_graph(Value(1.0, label="x") * 3, path)
    assert info.value.filename == str(path)
    assert str(path) in str(info.value) and ".tmp" not in str(info.value)


def test_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=0).save(path)
    old = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left") as info:
        MLP(2, [3, 1], seed=1).save(path)
    assert info.value.filename == str(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.json"]


# --- targets that are not plain files -----------------------------------------------------------
# os.replace onto a device or a FIFO puts a regular file in its place: as root, to_html(v,
# "/dev/null") replaced /dev/null itself.  (The tests use a FIFO: never the real /dev/null.)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_target_is_written_into_and_stays_a_fifo(tmp_path: Path) -> None:
    import stat

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that a writer can open it
    try:
        write_atomic(fifo, b"through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe.json"]  # no temporary left


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as info:
        write_atomic(fifo, b"x")
    assert info.value.filename == str(fifo)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_symlinked_target_is_written_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "runs" / "model.json"
    real.parent.mkdir()
    real.write_bytes(b"old")
    os.chmod(real, 0o600)
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    MLP(2, [1], seed=0).save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes().startswith(b"{")
    assert oct(os.stat(real).st_mode & 0o777) == oct(0o600)
    assert sorted(os.listdir(real.parent)) == ["model.json"]
