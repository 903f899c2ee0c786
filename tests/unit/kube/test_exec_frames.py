"""The exec's WebSocket frames as exec._read_frames reads them off the socket: the channels' data,
whatever the socket's reads cut (a frame's header, length or payload across reads), in every
length form, fragmented messages (a ping between their frames), masked frames, the v5 close-channel
message, and a connection that ends without a close frame. (tests/live runs it against the fake
API server's real WebSocket exec.)"""

from __future__ import annotations

import random

import pytest

from kubectl_svcpath.kube.exec import _read_frames

BINARY, TEXT, CONT, CLOSE, PING = 0x2, 0x1, 0x0, 0x8, 0x9


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None) -> bytes:
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask is not None else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if mask is not None:
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


class FakeSocket:
    """The TLS socket: hands the bytes over in reads of random sizes, then b"" (the connection ends)."""

    def __init__(self, data: bytes, seed: int) -> None:
        rnd = random.Random(seed)
        self.reads: list[bytes] = []
        i = 0
        while i < len(data):
            j = i + rnd.choice([1, 2, 3, 5, 9, 100, 16384, 70000])
            self.reads.append(data[i:j])
            i = j
        self.read_count = 0

    def settimeout(self, _timeout: float) -> None:
        pass

    def recv(self, size: int) -> bytes:
        assert size > 0
        if not self.reads:
            return b""
        self.read_count += 1
        data = self.reads.pop(0)
        if len(data) > size:
            self.reads.insert(0, data[size:])
            data = data[:size]
        return data

    def recv_into(self, buffer: memoryview, nbytes: int = 0) -> int:
        data = self.recv(nbytes or len(buffer))
        buffer[:len(data)] = data
        return len(data)


class FakeWebSocket:
    """websocket-client's WebSocket: what the reader asks of it (answers to pings and to the close)."""

    def __init__(self, sock: FakeSocket) -> None:
        self.sock = sock
        self.pongs: list[bytes] = []
        self.closes = 0

    def pong(self, payload: bytes) -> None:
        self.pongs.append(payload)

    def send_close(self) -> None:
        self.closes += 1


class FakeClient:
    def __init__(self, data: bytes, seed: int) -> None:
        self.sock = FakeWebSocket(FakeSocket(data, seed))


BIG = b"".join(b"-A KUBE-SVC-%06d -j KUBE-SEP-%06d caf\xc3\xa9\n" % (i, i) for i in range(3000))  # > 64 KiB: 8-byte length
STATUS = b'{"metadata":{},"status":"Success"}'


def stream() -> bytes:
    return b"".join([
        frame(BINARY, b"\x01*nat\n"),  # 7-bit length
        frame(BINARY, b"\x01" + b"x" * 300 + b"\n"),  # 16-bit length
        frame(BINARY, b"\x01" + BIG),  # 64-bit length
        frame(BINARY, b"\x02warning: one\n"),
        frame(BINARY, b"\x01"),  # an empty message of a channel
        frame(BINARY, b""),  # no channel byte at all
        frame(BINARY, b"\x01COM", fin=False),  # a fragmented message, a ping between its frames
        frame(PING, b"hb"),
        frame(CONT, b"MIT\n", fin=False),
        frame(CONT, b"", fin=True),
        frame(TEXT, b"\x02two\n", mask=b"\x11\x22\x33\x44"),  # masked, in a text frame
        frame(BINARY, b"\xff\x01"),  # v5: the server closed stdout
        frame(BINARY, b"\x03" + STATUS),
        frame(CLOSE, (1000).to_bytes(2, "big")),
        frame(BINARY, b"\x01after the close frame\n"),  # never read
    ])


@pytest.mark.parametrize("seed", range(12))
def test_channels_whatever_the_reads_cut(seed: int) -> None:
    ws = FakeClient(stream(), seed)
    read = _read_frames(ws, deadline=None)
    expected = ("*nat\n" + "x" * 300 + "\n" + BIG.decode() + "COMMIT\n")
    assert read.out == expected
    assert read.err == "warning: one\ntwo\n"
    assert read.status == STATUS
    assert read.ended and not read.timed_out
    assert ws.sock.pongs == [b"hb"] and ws.sock.closes == 1


@pytest.mark.parametrize("seed", range(6))
def test_pieces_handed_over_as_they_arrive(seed: int) -> None:
    seen: list[str] = []
    read = _read_frames(FakeClient(stream(), seed), deadline=None, on_stdout=seen.append)
    assert "".join(seen) == read.out and read.out.endswith("COMMIT\n")
    assert all(p.endswith("\n") for p in seen)


@pytest.mark.parametrize("seed", range(4))
def test_connection_ends_without_a_close_frame(seed: int) -> None:
    cut = frame(BINARY, b"\x01" + BIG)
    ws = FakeClient(frame(BINARY, b"\x01first\n") + cut[: len(cut) // 2], seed)
    read = _read_frames(ws, deadline=None)
    assert read.out == "first\n"  # the half frame is not data
    assert read.ended and read.status == b"" and ws.sock.closes == 0


def test_stopped_before_any_frame() -> None:
    ws = FakeClient(stream(), 0)
    read = _read_frames(ws, deadline=None, stopped=lambda: True)
    assert not read.ended and read.out == "" and ws.sock.sock.read_count == 0
