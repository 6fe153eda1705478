#!/usr/bin/env python3
"""Drives coactor_client.py (a client written from docs/protocol.md) against live nodes.

    client_test.py codecs
    client_test.py live <example_process1_node> <node transport: pooled|per-message> <client mode: pooled|per-message>

`codecs` checks the encodings against the document's examples (no node). `live` starts
example_process1_node (a node serving "process1", which answers every request with "Message Received!")
on 127.0.0.1, port 0, reads its address from its "listening on <address>" line, and checks, in both
codecs: the post's request; a request to an unknown name (failure 3) and to a dead pid (failure 2);
malformed requests (each answered with a failure frame); a garbage body (on per-message connections a
non-zero ack); a preamble that is not coactor, one of version 2 only, a length field below 4 and an
unknown frame kind (refused alone: the connection goes on); a preamble speaking versions 1..2
(version 1 is agreed). The node is killed on the way out, whatever happens.

Exit status: 0 when every check passed, 1 otherwise (each failure is printed).
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coactor_client as cc  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


# ---- without a node: the encodings of docs/protocol.md ----

def codecs():
    ping = cc.Struct("app::ping", [("count", "i32"), ("text", "string")])
    check(cc.encode_binary({"count": 5, "text": "hi"}, ping) == bytes([0x02, 0x0A, 0x02, 0x68, 0x69]),
          "binary: ping{5, \"hi\"} is 02 0a 02 68 69")
    check(cc.decode_binary(bytes([0x02, 0x0A, 0x02, 0x68, 0x69]), ping) == {"count": 5, "text": "hi"},
          "binary: 02 0a 02 68 69 reads back as ping{5, \"hi\"}")
    check(cc.encode_json({"count": 5, "text": "hi"}) == b'{"count":5,"text":"hi"}', "json: ping as an object")
    check(cc.encode_binary(-1, "i64") == b"\x01" and cc.encode_binary(1, "i64") == b"\x02", "zigzag: -1 is 1, 1 is 2")
    check(cc.encode_binary(300, "u32") == b"\xac\x02", "varint: 300 is ac 02")
    check(cc.encode_binary("test-message", "string") == b"\x0ctest-message", "binary: a string")
    check(cc.varint(2 ** 64 - 1) == b"\xff" * 9 + b"\x01", "varint: 2^64-1 takes 10 bytes")
    try:
        cc.decode_binary(b"\x02\x0a", ping)
        check(False, "binary: a truncated struct is an error")
    except cc.ProtocolError:
        check(True, "binary: a truncated struct is an error")
    f = cc.parse_frame(cc.frame(cc.ACK, 0, 0, cc.status_body(9, "why")))
    check(f.kind == cc.ACK and f.code == 9 and f.detail == "why", "an ack round trips")


# ---- against a live node ----

def die_with_parent():
    """In the child: be killed if this driver dies without its finally (e.g. killed by ctest's timeout)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except Exception:
        pass


class Node:
    """example_process1_node in a child process; killed on close()."""

    def __init__(self, program, transport):
        self.proc = subprocess.Popen([program, "--listen", "127.0.0.1:0", "--transport", transport],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=die_with_parent)
        self.address = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listening on "):
                self.address = line[len("listening on "):].strip()
                break
        if not self.address:
            self.close()
            raise RuntimeError("%s did not say its address" % program)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def expect_bye(node, mode, data, code, contains, what):
    """Opens a connection, writes `data` (whatever it is), expects the node's greeting then a bye
    carrying `code` and a detail containing `contains`, then the close."""
    c = cc.Connection.open(node.address)
    try:
        c.send(data)
        frames = []
        try:
            c.read_greeting()
        except cc.ProtocolError as e:  # the bye came instead of the hello
            frames.append(cc.Frame(cc.BYE, 0, 0))
            frames[-1].code, frames[-1].detail = e.code, e.detail
        frames += c.read_until_closed()
        byes = [f for f in frames if f.kind == cc.BYE]
        ok = check(len(byes) == 1 and byes[0].code == code and contains in (byes[0].detail or ""),
                   "%s: a bye with code %d containing %r (got %r)" % (what, code, contains, frames))
        # And then the close: the node closed its side (EOF or reset), not left the connection open.
        check(ok and c.ended == "closed", "%s: the node closes the connection (%s)" % (what, c.ended))
    finally:
        c.close()


def greeting(client):
    return client.preamble() + client.hello()


def live(program, transport, mode):
    node = Node(program, transport)
    print("node (%s) at %s, client mode %s" % (transport, node.address, mode), flush=True)
    try:
        for codec in (cc.BINARY, cc.JSON):
            cname = "binary" if codec == cc.BINARY else "json"
            # A per-message node answers only by connecting to the client: then the client listens.
            with cc.Client(node.address, mode=mode, codec=codec, listen=(transport == "per-message")) as client:
                # The post's request.
                r = client.request("process1", "string", "test-message")
                check(r.kind == cc.REPLY and r.value == "Message Received!" and r.type == "string",
                      "%s: test-message -> %r" % (cname, r))
                check(r.codec == codec, "%s: the reply is in the request's codec (%d)" % (cname, r.codec))
                if mode == "per-message":
                    check(client.acks and client.acks[-1].kind == cc.ACK and client.acks[-1].code == 0,
                          "%s: the request was acked with status 0" % cname)

                # An unknown name: failure 3.
                r = client.request("nobody-here", "string", "x")
                check(r.kind == cc.FAILURE and r.code == 3, "%s: unknown name -> failure 3 (%r)" % (cname, r))
                if mode == "per-message":
                    check(client.acks[-1].code == 0, "%s: a request answered by a failure is acked 0" % cname)

                # A dead pid of the node's own incarnation: failure 2.
                r = client.request(cc.Pid(client.node.incarnation, cc.random_u64(), 0), "string", "x")
                check(r.kind == cc.FAILURE and r.code == 2, "%s: dead pid -> failure 2 (%r)" % (cname, r))

                # Malformed requests: each answered with a failure, never left to time out.
                payload = cc.encode_value("x", "string", codec)
                cases = [
                    ("a target name that is not UTF-8", 9,
                     cc.frame(cc.REQUEST, codec, cc.FLAG_TO_NAME, cc.text(b"proc\xff1") + cc.sender_field(client.pid)
                              + cc.varint(1000) + cc.text("string") + payload), 1000),
                    ("a target slot beyond 32 bits", 9,
                     cc.frame(cc.REQUEST, codec, 0, cc.u64(client.node.incarnation) + cc.u64(5) + cc.varint(1 << 33)
                              + cc.sender_field(client.pid) + cc.varint(1001) + cc.text("string") + payload), 1001),
                    ("an unknown codec (7)", 12,
                     cc.data_frame(cc.REQUEST, 7, "process1", client.pid, 1002, "string", payload), 1002),
                    ("a type name that is not UTF-8", 9,
                     cc.data_frame(cc.REQUEST, codec, "process1", client.pid, 1003, b"str\xc0\xafing", payload), 1003),
                    ("a body that does not decode", 9,
                     cc.data_frame(cc.REQUEST, codec, "process1", client.pid, 1004, "string", b"\xff\xfe\xfd"), 1004),
                ]
                for what, code, data, tag in cases:
                    r = client.request_raw(data, tag)
                    check(r.kind == cc.FAILURE and r.code == code and r.tag == tag,
                          "%s: %s -> failure %d (%r)" % (cname, what, code, r))
                    if mode == "per-message":
                        ack = client.acks[-1]
                        check(ack.kind == cc.ACK and ack.code == code,
                              "%s: %s -> refused in its ack with %d (%r)" % (cname, what, code, ack))

                if mode == "per-message":
                    # A plain message with a garbage body: refused in its ack (nobody waits for a reply).
                    ack = client.send_frame(cc.data_frame(cc.MESSAGE, codec, "process1", client.pid, 0, "string",
                                                          b"\xff\xfe\xfd"))
                    check(ack.kind == cc.ACK and ack.code == 9, "%s: a garbage message -> ack 9 (%r)" % (cname, ack))
                    # A request without a sender (incarnation 0) is taken, though nobody can be answered.
                    ack = client.send_frame(cc.data_frame(cc.REQUEST, codec, "process1", None, 77, "string", payload))
                    check(ack.kind == cc.ACK and ack.code == 0, "%s: a request without sender -> ack 0 (%r)" % (cname, ack))

                # The connection (pooled) still works after all that.
                r = client.request("process1", "string", "again")
                check(r.kind == cc.REPLY and r.value == "Message Received!", "%s: still served after the bad frames" % cname)

        # Version negotiation: a client speaking 1..2 agrees on 1 and is served.
        with cc.Client(node.address, mode=mode, versions=(1, 2), listen=(transport == "per-message")) as client:
            r = client.request("process1", "string", "test-message")
            check(r.kind == cc.REPLY and r.value == "Message Received!", "versions 1..2: served (%r)" % r)
            check(client.node is not None, "versions 1..2: the node said hello")

        # Refusals: each a bye naming the reason, then the close.
        probe = cc.Client.__new__(cc.Client)  # only for its greeting bytes
        probe.versions, probe.incarnation, probe.name, probe.codec = (1, 1), cc.random_u64(), "probe", cc.BINARY
        probe.mode, probe.my_address = mode, "127.0.0.1:1" if mode == "per-message" else ""
        expect_bye(node, mode, b"GET / HTTP/1.0\r\n\r\n", 12, "does not speak the coactor protocol", "a bad preamble")
        expect_bye(node, mode, cc.preamble(2, 0) + probe.hello(), 12, "incompatible versions", "a preamble of version 2 only")
        expect_bye(node, mode, greeting(probe) + cc.u32(3) + b"abc", 9, "too short", "a length field of 3")

        # An unknown frame kind is refused on its own (the length delimits it): the connection goes on.
        with cc.Client(node.address, mode=mode, listen=(transport == "per-message")) as client:
            ack = client.send_frame(cc.frame(11, 0, 0, b""))
            if mode == "per-message":
                check(ack.kind == cc.ACK and ack.code == 12 and "kind 11" in (ack.detail or ""),
                      "an unknown frame kind (11) -> ack 12 (%r)" % ack)
            r = client.request("process1", "string", "test-message")
            check(r.kind == cc.REPLY and r.value == "Message Received!",
                  "an unknown frame kind (11): the node still serves the client (%r)" % r)
    finally:
        node.close()


def main(argv):
    if len(argv) >= 2 and argv[1] == "codecs":
        codecs()
    elif len(argv) == 5 and argv[1] == "live":
        codecs()
        try:
            live(argv[2], argv[3], argv[4])
        except Exception as e:  # a timeout, a refusal, a broken connection: the node is already killed
            check(False, "stopped by %s: %s" % (type(e).__name__, e))
    else:
        print(__doc__)
        return 2
    if failures:
        print("%d check(s) failed:" % len(failures))
        for f in failures:
            print("  " + f)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
