"""A coactor wire-protocol client in plain Python 3 (standard library only).

Written from docs/protocol.md alone, as an outsider would: it is the proof that the document is enough.
It speaks protocol version 1 in either connection mode:

* pooled: one connection, kept open; a pooled node answers on the connection the client opened, so the
  client need not listen. A per-message node answers only on connections it opens itself, to the
  address in the client's hello: to talk to one, a pooled client listens too (listen=True).
* per-message: a connection per frame, answered by an ack, closed by the client with a reset; the
  replies come on a connection the node opens to the address the client named in its hello, so the
  client listens (on 127.0.0.1, a port picked by the kernel).

    client = Client("127.0.0.1:9000", mode="pooled", codec=JSON)
    answer = client.request_name("process1", "string", "test-message")
    assert answer.kind == REPLY and answer.value == "Message Received!"
"""

import json
import os
import select
import socket
import struct
import time

# ---- constants (docs/protocol.md) ----

MAGIC = b"CoAc"
VERSION = 1

HELLO, MESSAGE, REQUEST, REPLY, FAILURE, ACK, BYE = 1, 2, 3, 4, 5, 6, 7
KIND_NAMES = {1: "hello", 2: "message", 3: "request", 4: "reply", 5: "failure", 6: "ack", 7: "bye", 8: "heartbeat"}
BINARY, JSON = 1, 2
FLAG_TO_NAME = 1

ERRC = {
    1: "timeout", 2: "dead_process", 3: "no_such_name", 4: "name_taken", 5: "already_registered",
    6: "request_to_self", 7: "not_local", 8: "unreachable", 9: "bad_message", 10: "unknown_type",
    11: "too_large", 12: "protocol", 13: "io", 14: "queue_full", 15: "stopped", 16: "exception",
    17: "unread_messages", 18: "not_serializable", 19: "rejected",
}


class ProtocolError(Exception):
    """The peer broke the protocol, or refused us (a bye): `code` and `detail` say why when known."""

    def __init__(self, text, code=None, detail=None):
        super().__init__(text)
        self.code = code
        self.detail = detail


class Closed(Exception):
    """The connection ended (EOF or reset) before what we waited for."""


# ---- primitive encodings ----

def varint(n):
    if n < 0:
        raise ValueError("varint of a negative number")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def unzigzag(n):
    return (n >> 1) ^ -(n & 1)


def u16(n):
    return struct.pack("<H", n)


def u32(n):
    return struct.pack("<I", n)


def u64(n):
    return struct.pack("<Q", n)


def text(s):
    """A string: varint byte length, then the UTF-8 bytes (bytes are sent as they are)."""
    data = s if isinstance(s, (bytes, bytearray)) else s.encode("utf-8")
    return varint(len(data)) + bytes(data)


class Reader:
    """Reads the fields of a frame body; raises ProtocolError on truncation or bad data."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if self.remaining() < n:
            raise ProtocolError("truncated: %d bytes wanted, %d left" % (n, self.remaining()))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("<H", self.take(2))[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def varint(self):
        value, shift = 0, 0
        while True:
            b = self.u8()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 63:
                raise ProtocolError("varint longer than 10 bytes")
        if value >= 1 << 64:
            raise ProtocolError("varint overflows 64 bits")
        return value

    def string(self):
        return self.take(self.varint()).decode("utf-8")

    def rest(self):
        return self.take(self.remaining())


# ---- pids ----

class Pid:
    """A process: node incarnation, id, slot, and the address of its node ("" when it is the peer)."""

    def __init__(self, incarnation, id, slot=0, address=""):
        self.incarnation, self.id, self.slot, self.address = incarnation, id, slot, address

    def __eq__(self, other):
        return isinstance(other, Pid) and (self.incarnation, self.id, self.slot) == (other.incarnation, other.id, other.slot)

    def __repr__(self):
        return "coactor://%s/pid/%x.%x.%x" % (self.address, self.incarnation, self.slot, self.id)


def random_u64():
    while True:
        n = struct.unpack("<Q", os.urandom(8))[0]
        if n:
            return n


# ---- message payloads ----
# Types are named as on the wire: "string", "bool", "i32", "u64", "f64", "bytes", "vector<T>", or a
# Struct (its wire name and its fields in declaration order, each a (name, type) pair).

class Struct:
    def __init__(self, name, fields):
        self.name = name
        self.fields = fields  # [(field name, type)]


def type_name(t):
    return t.name if isinstance(t, Struct) else t


def _int_range(t):
    bits = int(t[1:])
    if t[0] == "u":
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def encode_binary(value, t):
    """The binary codec (1)."""
    if isinstance(t, Struct):
        out = varint(len(t.fields))
        for name, ft in t.fields:
            out += encode_binary(value[name], ft)
        return out
    if t == "string":
        return text(value)
    if t == "bytes":
        return varint(len(value)) + bytes(value)
    if t == "bool":
        return b"\x01" if value else b"\x00"
    if t in ("f64", "f32"):
        return struct.pack("<d" if t == "f64" else "<f", value)
    if t[:1] in ("i", "u") and t[1:].isdigit():
        lo, hi = _int_range(t)
        if not lo <= value <= hi:
            raise ValueError("%d does not fit %s" % (value, t))
        return varint(zigzag(value) if t[0] == "i" else value)
    if t.startswith("vector<") and t.endswith(">"):
        inner = t[len("vector<"):-1]
        return varint(len(value)) + b"".join(encode_binary(v, inner) for v in value)
    raise ValueError("no binary encoding for type %r here" % (t,))


def _decode_binary(r, t):
    if isinstance(t, Struct):
        count = r.varint()
        if count != len(t.fields):
            raise ProtocolError("struct %s: %d fields, expected %d" % (t.name, count, len(t.fields)))
        return {name: _decode_binary(r, ft) for name, ft in t.fields}
    if t == "string":
        return r.string()
    if t == "bytes":
        return r.take(r.varint())
    if t == "bool":
        b = r.u8()
        if b > 1:
            raise ProtocolError("bool byte %d" % b)
        return b == 1
    if t == "f64":
        return struct.unpack("<d", r.take(8))[0]
    if t == "f32":
        return struct.unpack("<f", r.take(4))[0]
    if t[:1] in ("i", "u") and t[1:].isdigit():
        n = r.varint()
        value = unzigzag(n) if t[0] == "i" else n
        lo, hi = _int_range(t)
        if not lo <= value <= hi:
            raise ProtocolError("%d does not fit %s" % (value, t))
        return value
    if t.startswith("vector<") and t.endswith(">"):
        inner = t[len("vector<"):-1]
        return [_decode_binary(r, inner) for _ in range(r.varint())]
    raise ValueError("no binary decoding for type %r here" % (t,))


def decode_binary(data, t):
    r = Reader(data)
    value = _decode_binary(r, t)
    if r.remaining():
        raise ProtocolError("%d trailing bytes" % r.remaining())
    return value


def encode_json(value, t=None):
    """The JSON codec (2): one JSON value, UTF-8. Structs are objects keyed by field name."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_json(data, t=None):
    return json.loads(bytes(data).decode("utf-8"))


def encode_value(value, t, codec):
    return encode_binary(value, t) if codec == BINARY else encode_json(value, t)


def decode_value(data, t, codec):
    return decode_binary(data, t) if codec == BINARY else decode_json(data, t)


# ---- frames ----

def frame(kind, codec, flags, body):
    """A whole frame: u32 length of what follows, kind, codec, u16 flags, body."""
    rest = bytes([kind, codec]) + u16(flags) + bytes(body)
    return u32(len(rest)) + rest


def preamble(highest=VERSION, lowest=0):
    return MAGIC + u16(highest) + u16(lowest)


def hello_frame(incarnation, name, address, codec, extensions=()):
    body = u64(incarnation) + text(name) + text(address) + bytes([codec]) + u32(0) + varint(len(extensions))
    for key, value in extensions:
        body += text(key) + text(value)
    return frame(HELLO, 0, 0, body)


def status_body(code, detail=""):
    return varint(code) + text(detail)


def target_field(target):
    """(flags, bytes) for a target: a registered name (str) or a Pid."""
    if isinstance(target, Pid):
        return 0, u64(target.incarnation) + u64(target.id) + varint(target.slot)
    return FLAG_TO_NAME, text(target)


def sender_field(sender):
    if sender is None:
        return u64(0)
    return u64(sender.incarnation) + u64(sender.id) + varint(sender.slot) + text(sender.address)


def data_frame(kind, codec, target, sender, tag, type_name_, payload):
    """A message (2), request (3) or reply (4) frame; `payload` is already encoded in `codec`."""
    flags, to = target_field(target)
    body = to + sender_field(sender) + varint(tag) + text(type_name_) + bytes(payload)
    return frame(kind, codec, flags, body)


class Frame:
    """A parsed frame. Data frames: target, sender, tag, type, payload; failure/ack/bye: code, detail."""

    def __init__(self, kind, codec, flags):
        self.kind, self.codec, self.flags = kind, codec, flags
        self.target = self.sender = None
        self.tag = 0
        self.type = None
        self.payload = b""
        self.code = None
        self.detail = None
        self.value = None  # a reply's payload decoded (set by Client when it knows the type)

    def __repr__(self):
        if self.kind in (FAILURE, ACK, BYE):
            return "<%s tag=%d code=%s (%s) %r>" % (KIND_NAMES.get(self.kind), self.tag, self.code,
                                                    ERRC.get(self.code, "none"), self.detail)
        return "<%s codec=%d tag=%d type=%r payload=%r>" % (KIND_NAMES.get(self.kind, self.kind), self.codec,
                                                           self.tag, self.type, self.payload)


def parse_frame(data):
    """Parses a whole frame (length field included)."""
    r = Reader(data)
    length = r.u32()
    if length != len(data) - 4 or length < 4:
        raise ProtocolError("bad length field %d" % length)
    f = Frame(r.u8(), r.u8(), r.u16())
    if f.kind in (MESSAGE, REQUEST, REPLY, FAILURE):
        if f.flags & FLAG_TO_NAME:
            f.target = r.string()
        else:
            f.target = Pid(r.u64(), r.u64(), r.varint())
        incarnation = r.u64()
        if incarnation:
            f.sender = Pid(incarnation, r.u64(), r.varint(), r.string())
        f.tag = r.varint()
        if f.kind != FAILURE:
            f.type = r.string()
            f.payload = r.rest()
            return f
    if f.kind in (FAILURE, ACK, BYE):
        f.code = r.varint()
        f.detail = r.string()
        return f
    f.payload = r.rest()
    return f


class Hello:
    def __init__(self, incarnation, name, address, codec, capabilities, extensions):
        self.incarnation, self.name, self.address = incarnation, name, address
        self.codec, self.capabilities, self.extensions = codec, capabilities, extensions


def parse_hello_body(body):
    r = Reader(body)
    incarnation = r.u64()
    name = r.string()
    address = r.string()
    codec = r.u8()
    capabilities = r.u32()
    extensions = {}
    for _ in range(r.varint()):
        key = r.string()
        extensions[key] = r.string()
    return Hello(incarnation, name, address, codec, capabilities, extensions)


# ---- connections ----

class Connection:
    """One TCP connection: the handshake, then frames."""

    def __init__(self, sock, timeout=5.0):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.peer = None          # the peer's Hello
        self.peer_versions = None  # (lowest, highest) from its preamble
        self.version = None       # the agreed version
        self.ended = None         # after read_until_closed(): "closed", or "still open" (it timed out)

    @staticmethod
    def open(address, timeout=5.0):
        host, port = address.rsplit(":", 1)
        return Connection(socket.create_connection((host, int(port)), timeout=timeout), timeout)

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed("the connection closed with %d of %d bytes read" % (len(self.buf), n))
            self.buf += chunk

    def read_exact(self, n):
        self._fill(n)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        self._fill(4)
        length = struct.unpack("<I", self.buf[:4])[0]
        if length < 4:
            raise ProtocolError("frame length %d below 4" % length)
        return parse_frame(self.read_exact(4 + length))

    def read_greeting(self, versions=(1, 1)):
        """Reads the peer's preamble and hello; a bye instead raises ProtocolError with its reason."""
        p = self.read_exact(8)
        if p[:4] != MAGIC:
            raise ProtocolError("not a coactor peer: %r" % p)
        highest, lowest = struct.unpack("<HH", p[4:])
        lowest = lowest or highest
        self.peer_versions = (lowest, highest)
        agreed = min(highest, versions[1])
        if agreed < max(lowest, versions[0]):
            raise ProtocolError("incompatible versions %d..%d and %d..%d" % (lowest, highest, versions[0], versions[1]))
        self.version = agreed
        f = self.read_frame()
        if f.kind == BYE:
            raise ProtocolError("refused: %s" % f.detail, f.code, f.detail)
        if f.kind != HELLO:
            raise ProtocolError("expected a hello, got kind %d" % f.kind)
        self.peer = parse_hello_body(f.payload)
        return self.peer

    def read_until_closed(self):
        """Everything the peer still sends, until it closes: its frames (e.g. a bye)."""
        frames = []
        while True:
            try:
                frames.append(self.read_frame())
            except socket.timeout:
                self.ended = "still open"
                return frames
            except (Closed, OSError):
                self.ended = "closed"
                return frames

    def close(self, reset=False):
        if reset:  # SO_LINGER {on, 0}: the close sends an RST and keeps no TIME_WAIT
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


# ---- the client ----

class Client:
    """A client node without processes: its requests carry a made-up pid of its own incarnation, to which
    the replies come back.

    mode "pooled": one connection, opened now; mode "per-message": a listener for the replies, and a
    connection per frame (each answered by an ack). `listen` (always on in per-message mode): the client
    also accepts connections the node opens to it, as a per-message node does for every reply."""

    def __init__(self, address, mode="pooled", codec=BINARY, name="python-client", timeout=5.0, versions=(1, 1),
                 listen=False):
        if mode not in ("pooled", "per-message"):
            raise ValueError("mode is pooled or per-message")
        self.address, self.mode, self.codec, self.name, self.timeout = address, mode, codec, name, timeout
        self.versions = versions  # (lowest, highest) said in our preamble
        self.incarnation = random_u64()
        self.pid = Pid(self.incarnation, random_u64(), 0, "")  # "": the node that sent the frame (us)
        self.next_tag = 1
        self.listener = None
        self.my_address = ""
        self.conn = None
        self.inbound = []  # pooled connections the node opened to the client's address
        self.node = None  # the node's Hello
        self.acks = []    # per-message: the ack of every frame sent, in order
        self.pending = []  # frames read while waiting for another
        if mode == "per-message" or listen:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(16)
            self.listener.settimeout(timeout)
            self.my_address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        if mode == "pooled":
            self.conn = self._connect()

    def preamble(self):
        lowest, highest = self.versions
        return preamble(highest, 0 if lowest == highest else lowest)

    def hello(self):
        ext = [("mode", "per-message")] if self.mode == "per-message" else []
        return hello_frame(self.incarnation, self.name, self.my_address, self.codec, ext)

    def _connect(self):
        c = Connection.open(self.address, self.timeout)
        c.send(self.preamble() + self.hello())
        self.node = c.read_greeting(self.versions)
        return c

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        for c in self.inbound:
            c.close()
        self.inbound = []
        if self.listener:
            self.listener.close()
            self.listener = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def tag(self):
        t = self.next_tag
        self.next_tag += 1
        return t

    def send_frame(self, data):
        """Sends one frame. per-message: on a connection of its own; returns its ack (a Frame) after
        closing the connection with a reset. pooled: returns None."""
        if self.mode == "pooled":
            self.conn.send(data)
            return None
        c = Connection.open(self.address, self.timeout)
        try:
            c.send(self.preamble() + self.hello() + data)
            self.node = c.read_greeting(self.versions)
            ack = c.read_frame()
            if ack.kind not in (ACK, BYE):
                raise ProtocolError("expected an ack, got %r" % ack)
            self.acks.append(ack)
            return ack
        finally:
            c.close(reset=True)

    def accept_frame(self):
        """Accepts a connection the node opened and reads its first frame. A per-message node (its hello
        says so) sends one frame: acked (status 0), and the node closes. A pooled node keeps the connection
        for its later frames, with no acks: it is kept in `inbound`, read like the client's own."""
        sock, _ = self.listener.accept()
        c = Connection(sock, self.timeout)
        pooled = False
        try:
            c.send(self.preamble() + self.hello())
            node = c.read_greeting(self.versions)
            pooled = node.extensions.get("mode", "pooled") == "pooled"
            if pooled:
                self.inbound.append(c)
                return c.read_frame()
            f = c.read_frame()
            c.send(frame(ACK, 0, 0, status_body(0)))
            c.read_until_closed()  # the node closes (with a reset) once it has the ack
            return f
        finally:
            if not pooled:
                c.close()

    def receive(self, match=lambda f: True):
        """The next frame sent to us that `match` accepts (others are kept for later)."""
        for i, f in enumerate(self.pending):
            if match(f):
                return self.pending.pop(i)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            f = self._next_frame(deadline)
            if f is None:
                continue
            if f.kind == BYE:
                raise ProtocolError("the node closed the connection: %s" % f.detail, f.code, f.detail)
            if match(f):
                return f
            self.pending.append(f)
        raise socket.timeout("no frame within %.1f s" % self.timeout)

    def _next_frame(self, deadline):
        """The next frame for us: on the client's pooled connection, on a pooled connection the node opened,
        or on a new connection the node opens (None when none had one ready within a short wait)."""
        connections = ([self.conn] if self.conn else []) + self.inbound
        for c in connections:
            if c.buf:
                return c.read_frame()
        wait = max(0.0, min(0.1, deadline - time.monotonic()))
        sources = [c.sock for c in connections] + ([self.listener] if self.listener else [])
        ready, _, _ = select.select(sources, [], [], wait)
        for c in connections:
            if c.sock in ready:
                return c.read_frame()
        if self.listener in ready:
            return self.accept_frame()
        return None

    def send(self, target, t, value, codec=None):
        """A plain message to a registered name (str) or a Pid."""
        codec = codec or self.codec
        return self.send_frame(data_frame(MESSAGE, codec, target, self.pid, 0, type_name(t), encode_value(value, t, codec)))

    def request_raw(self, data, tag, reply_type=None):
        """Sends a request frame built by hand (tag `tag`) and waits for its reply or failure."""
        self.send_frame(data)
        f = self.receive(lambda f: f.kind in (REPLY, FAILURE) and f.tag == tag)
        if f.kind == REPLY and reply_type is not None:
            f.value = decode_value(f.payload, reply_type, f.codec)
        return f

    def request(self, target, t, value, reply_type="string", codec=None):
        """A request to a name or a Pid: the reply (Frame with .value) or the failure (Frame with .code)."""
        codec = codec or self.codec
        tag = self.tag()
        data = data_frame(REQUEST, codec, target, self.pid, tag, type_name(t), encode_value(value, t, codec))
        return self.request_raw(data, tag, reply_type)
