"""A fork server for the unit tests' Python runs (src/export/pythonForkServer.testutil.ts).

Importing torch costs about a second, and the PyTorch tests start Python some sixty times. This process imports
torch, numpy and Pillow once, then forks a child for each run: the child takes the client's working folder,
environment, arguments and standard streams (passed over the socket), runs `-c CODE ARGS` or `SCRIPT ARGS` as
`python3` would, and reports its exit status. A forked child starts from this process's state, in which nothing has
run yet, and seeds Python's, numpy's and torch's random numbers from the system as a fresh interpreter does. What
it shares with the server: the modules imported above, and the hash seed of strings.

Usage: python3 python_fork_server.py SOCKET_PATH   (prints `ready` once it listens)
"""

import gc
import json
import os
import random
import runpy
import signal
import socket
import struct
import sys
import threading
import traceback

# Imported here, once, so that no run pays for them.
import numpy
import PIL.Image
import torch
import torch.nn.functional


def read_exactly(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError("the client went away")
        data += chunk
    return data


def end_with_client(conn):
    """Ends this run when its client goes (killed at a test's timeout, say), as a direct process would end with it."""

    def watch():
        try:
            conn.recv(1)
        except OSError:
            pass
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def run_request(request):
    """Runs one request as `python3 ARGV` would; its exit status."""
    # A fresh interpreter seeds these from the operating system; a fork would otherwise repeat the server's draws.
    random.seed()
    numpy.random.seed()
    torch.seed()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        if argv[0] == "-c":
            sys.argv = ["-c"] + argv[2:]
            sys.path[0] = ""
            exec(compile(argv[1], "<string>", "exec"), namespace)
        else:
            sys.argv = list(argv)
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            namespace = runpy.run_path(argv[0], run_name="__main__")
        status = 0
    except SystemExit as exit_:
        if exit_.code is None:
            status = 0
        elif isinstance(exit_.code, int):
            status = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            status = 1
    except BaseException:  # As the interpreter: any exception ends the run with status 1.
        traceback.print_exc()
        status = 1
    # Files a run opened and never closed are flushed as the interpreter would flush them at exit.
    namespace.clear()
    gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def serve(path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    # The children report their own status: let the kernel reap them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # One write, then nothing more on that pipe: the test process stops reading it once it has the line.
    os.write(1, b"ready\n")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    # A test process that dies without stopping the server (a crash, Ctrl-C) leaves it an orphan: it then ends itself.
    parent = os.getppid()
    server.settimeout(2.0)
    while True:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            if os.getppid() != parent:
                # Its socket and the folder the test process made for it go with it.
                os.unlink(path)
                os.rmdir(os.path.dirname(path))
                return
            continue
        try:
            header, fds, _, _ = socket.recv_fds(conn, 4, 3)
            if len(header) < 4:
                header += read_exactly(conn, 4 - len(header))
            request = json.loads(read_exactly(conn, struct.unpack("<I", header)[0]))
        except (EOFError, OSError, ValueError):
            conn.close()
            continue
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            end_with_client(conn)
            status = run_request(request)
            try:
                conn.sendall(str(status).encode())
            finally:
                os._exit(status)
        conn.close()
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    serve(sys.argv[1])
