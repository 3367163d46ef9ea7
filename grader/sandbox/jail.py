"""Entering the sandbox: build a private root filesystem, drop privileges, exec.

Run by :mod:`grader.sandbox` as ``unshare --net --mount --pid --ipc --uts
--fork --kill-child [--user --map-root-user] python -I -S jail.py SPEC``.
It is the first program in the new namespaces (pid 1 there), still
privileged *inside* them, and it uses only the standard library because it
runs before the sandbox's own Python path exists.

What it does, in order (``SPEC`` is a JSON file written by the trusted
parent):

1. makes every mount private, so nothing below leaks back to the host;
2. mounts an empty ``tmpfs`` as the new root and binds into it, read-only,
   only what the worker needs to run: the system (``/usr``, ``/etc``), the
   Python installation and virtual environment, the copy of the ``grader``
   package and of the lab's check code, the job's public inputs; read-write
   only the sandbox's own box (home, tmp, observations, the submission);
   a few device nodes; a fresh ``/proc`` (of the new pid namespace) and
   ``/dev/shm``; data sets shipped inside Python packages are masked by
   empty folders. The grader's workspace, the repository's solutions,
   fixtures and labels, other submissions and the TA's output folder simply
   do not exist in there;
3. ``pivot_root`` into it and detaches the old root, so even a process
   that regains privileges cannot walk back out;
4. sets resource limits (file size, processes, core dumps), drops every
   privilege — as host root: supplementary groups, then gid and uid to an
   unprivileged id; in a user namespace (no host root): the capability
   bounding set and root's special status — and sets ``no_new_privs``;
5. asks the kernel to kill it when its parent (``unshare``) dies: dropping
   root above cleared the request ``unshare --kill-child`` made, and
   without it a ``kill -9`` of the grader would leave the worker running
   (pid 1 of its namespace: when it dies, everything in the sandbox dies);
6. ``execve``'s the worker with a scrubbed environment.

Any failure exits with status 111 and a one-line reason on stderr, which
the parent reports (the sandbox could not be built: a grader problem, not
the student's).
"""

import ctypes
import json
import os
import platform
import resource
import select
import signal
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
# Flags a read-only remount must keep when the kernel has locked them on the
# source mount (in a user namespace, dropping them is refused with EPERM).
KEEP_FLAGS = MS_NOEXEC | 1024 | 2048 | 4096  # noexec, noatime, nodiratime, relatime
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 1, 38, 24, 28
# SECBIT_NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP | NO_SETUID_FIXUP_LOCKED | KEEP_CAPS_LOCKED
SECURE_NOROOT = 0x01 | 0x02 | 0x04 | 0x08 | 0x20
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "ppc64le": 203, "s390x": 217}

_libc = ctypes.CDLL(None, use_errno=True)


class JailError(Exception):
    pass


def _check(ret, what):
    if ret != 0:
        errno = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype=None, flags=0, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source} on {target}")


def _mountpoint(path, like):
    """Create an empty directory or file at ``path`` to bind ``like`` onto."""
    if os.path.isdir(like):
        os.makedirs(path, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        if not os.path.exists(path):
            open(path, "w").close()


def bind(source, target, *, writable=False):
    _mountpoint(target, source)
    # Recursive: a user namespace refuses to bind a mount without its submounts.
    mount(source, target, None, MS_BIND | MS_REC)
    if writable:
        return
    kept = os.statvfs(source).f_flag & KEEP_FLAGS
    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | kept)


def pivot_into(root):
    """Make ``root`` the root of this mount namespace and drop the old one."""
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise JailError(f"pivot_root: unknown architecture {platform.machine()}")
    # pivot_root(".", ".") stacks the old root on top of the new one; detaching
    # it leaves only the new root (the trick documented in pivot_root(2)).
    _check(_libc.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")


def build(spec):
    root = spec["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    for source, target, writable in spec["binds"]:
        if os.path.exists(source):
            bind(source, root + target, writable=writable)
    for target, path in spec["symlinks"]:
        os.makedirs(os.path.dirname(root + path), mode=0o755, exist_ok=True)
        os.symlink(target, root + path)
    for path in spec.get("masks", []):
        # Hidden behind an empty, read-only folder.
        if os.path.isdir(root + path):
            mount("tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    for node in spec["devices"]:
        if os.path.exists(node):
            _mountpoint(root + node, node)
            mount(node, root + node, None, MS_BIND)
    os.makedirs(root + "/dev/shm", mode=0o755, exist_ok=True)
    mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    os.makedirs(root + "/proc", mode=0o555, exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    pivot_into(root)
    # The skeleton itself (mount points, symlinks) becomes read-only too.
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_privileges(spec):
    for name, value in spec["rlimits"].items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
    if spec.get("uid") is not None:
        # Host root: become an unprivileged user; every capability goes with it.
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
        if os.getuid() == 0 or os.geteuid() == 0:
            raise JailError("could not drop root")
    else:
        # Root of a user namespace: stay uid 0 there (no other id is mapped),
        # but give up the capabilities for good before exec.
        for cap in range(64):
            if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                break
        _check(_libc.prctl(PR_SET_SECUREBITS, SECURE_NOROOT, 0, 0, 0), "securebits")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def die_with_parent():
    """Be killed when ``unshare`` (the parent) dies. A change of user id
    clears this setting, so it is made after the privileges are dropped;
    a grader that died before it shows as a pipe with no reader on stdout
    (the parent's pid is not visible from inside the pid namespace)."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
    poller = select.poll()
    poller.register(1, select.POLLOUT)
    if any(events & select.POLLERR for _, events in poller.poll(0)):
        raise JailError("the grader is gone")


def main(spec_path):
    with open(spec_path) as fh:
        spec = json.load(fh)
    build(spec)
    drop_privileges(spec)
    die_with_parent()
    os.chdir(spec["cwd"])
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except (JailError, OSError, KeyError, ValueError) as exc:
        sys.stderr.write(f"dlkit-jail: {exc}\n")
        sys.stderr.flush()
        os._exit(111)
