"""Pure computation handed to a forked child while this process goes on writing.

    job = aside.compute(fn)      # fork: the child runs fn() on a copy of this process's memory
    try:
        ...                      # this process writes to its database meanwhile
        value = job.result()     # what fn() returned (pickled back through a pipe)
    finally:
        job.close()              # if result() was never reached: the child is stopped, reaped

Issuing a national month seals some 15,000 documents (their frozen JSON, hashes and audit
values: seconds of Python) while it writes some 130,000 rows: with a second core, the two
overlap.  `fn` must only compute: the child shares this process's open files and database
connections and must never use them.  So it runs with the cycle collector off (no finalizer
of a database object runs there), and ends with `os._exit` (no exit handler, no flush of
anything this process opened).  Where fork is not available, or the child fails to start,
`fn()` runs here, in `result()`; an error in the child is raised again here, from running
`fn()` here, so the caller sees the real exception."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Job(Generic[T]):
    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._pid = 0
        self._read = -1
        if not hasattr(os, "fork"):
            return
        import gc

        try:
            read, write = os.pipe()
        except OSError:
            return
        enabled = gc.isenabled()
        gc.disable()  # nothing collected between fork and the child's first step
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            if enabled:
                gc.enable()
            return
        if pid == 0:  # the child: never returns
            os.close(read)
            self._child(write)
        if enabled:
            gc.enable()
        os.close(write)
        self._pid, self._read = pid, read

    def _child(self, write: int) -> None:
        code = 1
        try:
            import pickle

            data = pickle.dumps(("ok", self._fn()), protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
        except BaseException:  # noqa: BLE001 - the parent runs fn() itself and sees it
            data = b""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(write, view):]
        except OSError:
            code = 1
        finally:
            os._exit(code)

    def result(self) -> T:
        """fn()'s value: the child's, or computed here if there was no child or it failed."""
        if not self._pid:
            return self._fn()
        chunks = []
        try:
            with os.fdopen(self._read, "rb") as pipe:
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
        finally:
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
        if status != 0 or not chunks:
            return self._fn()  # the child failed: here, so that its error is raised here
        import pickle

        tag, value = pickle.loads(b"".join(chunks))
        assert tag == "ok"
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop and reap a child whose result is no longer wanted (the caller failed before
        `result()`): it would otherwise wait on its pipe until this process ends."""
        if not self._pid:
            return
        import signal

        pid, self._pid = self._pid, 0
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.close(self._read)
        os.waitpid(pid, 0)


def compute(fn: Callable[[], T]) -> Job[T]:
    """Start computing fn() in a forked child (or later, here, where there is no fork)."""
    return Job(fn)

