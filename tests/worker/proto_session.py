#!/usr/bin/env python3
"""veil-worker against a hostile host: malformed, oversized and out-of-order
frames end the session with an ERROR frame and a non-zero exit, never a
crash (a signal) or a hang. TAP."""
import os
import socket
import struct
import subprocess
import sys

worker = sys.argv[1]
n = 0
failed = False


def check(ok, what):
    global n, failed
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what))
    failed |= not ok


def frame(mtype, body=b"", version=2, magic=b"VW", length=None):
    return magic + bytes([version, mtype]) + struct.pack(">I", len(body) if length is None else length) + body


def field(tag, value):
    return struct.pack(">HI", tag, len(value)) + value


def run(data, close=True):
    """Sends data to a fresh worker; returns (exit code, frames read back)."""
    host, child = socket.socketpair()
    # the child's end goes to fd 3, as veil puts it; keep ours off fd 3
    while host.fileno() <= 3:
        moved = host.dup()
        host.close()
        host = moved
    os.dup2(child.fileno(), 3, inheritable=True)
    child.close()
    p = subprocess.Popen([worker, "--fd", "3"], pass_fds=[3], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(3)
    try:
        host.sendall(data)
    except OSError:
        pass
    if close:
        host.shutdown(socket.SHUT_WR)
    host.settimeout(10)
    got = b""
    try:
        while True:
            chunk = host.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    host.close()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hang"
    frames = []
    while len(got) >= 8:
        length = struct.unpack(">I", got[4:8])[0]
        frames.append((got[3], got[8:8 + length]))
        got = got[8 + length:]
    return rc, frames


def refused(data, what):
    rc, frames = run(data)
    check(isinstance(rc, int) and rc > 0, "%s: the worker exits non-zero, no signal or hang (rc %s)" % (what, rc))
    check(len(frames) == 1 and frames[0][0] == 11, "%s: the host gets one ERROR frame" % what)


hello = frame(1, field(1, b"tdx") + field(2, b"ws"))
refused(b"GARBAGE!", "bad magic")
refused(frame(1, version=1), "unknown protocol version")
refused(frame(1, length=0xFFFFFFFF), "a frame that claims 4 GiB")
refused(frame(1, length=(1 << 20) + 4097), "a frame over the body limit")
refused(frame(99), "an unknown message type")
refused(frame(3, field(6, b"verify")), "a job before hello")
refused(frame(1, field(1, b"sim") + field(2, b"ws")), "a simulated hello without its key")
refused(frame(1, field(1, b"sgx") + field(2, b"ws")), "an unknown TEE")
refused(frame(1, field(1, b"tdx") + field(2, b"ws") + field(3, b"key")), "a sim key for another TEE")
refused(frame(1, field(1, b"tdx") + struct.pack(">HI", 2, 100) + b"ws"), "a field longer than its frame")
refused(frame(1, field(1, b"tdx") + field(2, b"w\x00s")), "a text field with a NUL")
refused(frame(1, field(1, b"tdx")), "a hello missing its workspace")
refused(hello[:13], "a frame cut short")

# hello for tdx: the worker answers hello-ok with its measurement, then a
# job it does not know ends the session
rc, frames = run(hello + frame(3, field(6, b"mine-bitcoin")))
check(len(frames) == 2 and frames[0][0] == 2, "hello is answered with hello-ok")
check(len(frames) == 2 and frames[1][0] == 11 and b"no job 'mine-bitcoin'" in frames[1][1],
      "an unknown job is refused by name")
check(isinstance(rc, int) and rc > 0, "and the worker exits non-zero (rc %s)" % rc)
rc, frames = run(hello + frame(12))
check(rc == 0 and len(frames) == 1, "bye ends a session cleanly (rc %s)" % rc)
# a verify job on a TEE this machine does not have: no evidence, no key
job = frame(3, field(6, b"verify") + field(7, b"dek-1") + field(13, struct.pack(">Q", 1)) + field(14, b"a" * 64))
challenge = frame(5, field(8, bytes(32)))
rc, frames = run(hello + job + challenge)
types = [f[0] for f in frames]
check(types == [2, 4, 11], "a tdx verify job asks for its key, then fails for want of evidence (%s)" % types)
check(len(frames) == 3 and b"configfs" in frames[2][1] or b"TSM" in frames[-1][1] or b"tsm" in frames[-1][1],
      "and says why: no configfs-tsm here")
print("1..%d" % n)
sys.exit(1 if failed else 0)
