"""A DICOM Upper Layer peer written byte by byte, so tests can send what no toolkit would.

Every PDU and command set is built here by hand (PS3.8 9.3, PS3.7 Annex E), so a test
can break exactly one rule: an even context ID, a PDU length that lies, a command set
without a Message ID, a Command Field no one defined.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field
from io import BytesIO

from pydicom import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pynetdicom.dsutils import decode

APP_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"


def _item(item_type: int, value: bytes) -> bytes:
    return bytes([item_type, 0]) + struct.pack(">H", len(value)) + value


def _uid(value: str) -> bytes:
    return value.encode()


def presentation_context(context_id: int, abstract: str, syntaxes=(EXPLICIT, IMPLICIT)) -> bytes:
    value = bytes([context_id, 0, 0, 0]) + _item(0x30, _uid(abstract))
    value += b"".join(_item(0x40, _uid(ts)) for ts in syntaxes)
    return _item(0x20, value)


def user_info(max_pdu: int = 16384, extra: bytes = b"") -> bytes:
    return _item(0x50, _item(0x51, struct.pack(">L", max_pdu)) + _item(0x52, b"1.2.3.4") + extra)


def associate_rq(contexts: list[tuple[int, str]], *, called: str = "PRINTSCP", calling: str = "RAWSCU",
                 version: int = 1, app_context: str | None = APP_CONTEXT, max_pdu: int = 16384,
                 user_extra: bytes = b"", items: bytes | None = None) -> bytes:
    """An A-ASSOCIATE-RQ PDU; `items` replaces every variable item when given."""
    if items is None:
        items = (_item(0x10, _uid(app_context)) if app_context is not None else b"")
        items += b"".join(presentation_context(cid, uid) for cid, uid in contexts)
        items += user_info(max_pdu, user_extra)
    body = struct.pack(">HH", version, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + bytes(32)
    body += items
    return struct.pack(">BBL", 0x01, 0, len(body)) + body


def recv_pdu(sock: socket.socket, timeout: float = 10.0):
    """(type, body) of the next PDU, or None when the connection closes first."""
    sock.settimeout(timeout)
    header = _recv(sock, 6)
    if header is None:
        return None
    pdu_type, _, length = struct.unpack(">BBL", header)
    body = _recv(sock, length)
    return None if body is None else (pdu_type, body)


def _recv(sock, count: int) -> bytes | None:
    out = b""
    while len(out) < count:
        try:
            chunk = sock.recv(count - len(out))
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not chunk:
            return None
        out += chunk
    return out


def closed_within(sock: socket.socket, timeout: float) -> bool:
    """True when the peer closes (or resets) within `timeout` seconds, reading and dropping data."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def command_set(command_field: int, message_id: int | None = 1, *, data: bool = False, **elements) -> bytes:
    """An Implicit VR Little Endian command set with its group length. Elements given as
    keyword=value; None leaves one out."""
    ds = Dataset()
    for keyword, value in elements.items():
        if value is not None:
            setattr(ds, keyword, value)
    if command_field is not None:
        ds.CommandField = command_field
    if message_id is not None:
        ds.MessageID = message_id
    if "CommandDataSetType" not in elements:
        ds.CommandDataSetType = 0x0001 if data else 0x0101
    body = _encode(ds)
    group = Dataset()
    group.CommandGroupLength = len(body)
    return _encode(group) + body


def _encode(ds: Dataset, implicit: bool = True) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = implicit
    write_dataset(fp, ds)
    return fp.getvalue()


def encode_data_set(ds: Dataset, implicit: bool = False) -> bytes:
    return _encode(ds, implicit)


def p_data(pdvs: list[tuple[int, int, bytes]]) -> bytes:
    """A P-DATA-TF PDU of (context ID, control header, fragment) PDVs."""
    body = b"".join(struct.pack(">LB", len(fragment) + 2, cid) + bytes([header]) + fragment
                    for cid, header, fragment in pdvs)
    return struct.pack(">BBL", 0x04, 0, len(body)) + body


@dataclass
class Response:
    context_id: int
    command: Dataset
    data: bytes = b""

    @property
    def status(self) -> int:
        return int(self.command.Status)

    @property
    def command_field(self) -> int:
        return int(self.command.CommandField)

    @property
    def comment(self) -> str:
        return str(self.command.get("ErrorComment", ""))


@dataclass
class RawAssociation:
    sock: socket.socket
    accepted: dict[str, tuple[int, str]] = field(default_factory=dict)  # abstract -> (context ID, ts)
    max_pdu: int = 16384
    events: list[Response] = field(default_factory=list)  # N-EVENT-REPORT-RQs received meanwhile

    def cid(self, abstract: str) -> int:
        return self.accepted[abstract][0]

    def send_message(self, context_id: int, command: bytes, data: bytes | None = None, fragment: int = 4000):
        self.sock.sendall(p_data([(context_id, 0x03, command)]))
        if data is not None:
            chunks = [data[i:i + fragment] for i in range(0, len(data), fragment)] or [b""]
            for i, chunk in enumerate(chunks):
                self.sock.sendall(p_data([(context_id, 0x02 if i == len(chunks) - 1 else 0x00, chunk)]))

    def receive(self, timeout: float = 10.0, answer_events: bool = True) -> Response | tuple | None:
        """The next DIMSE response; N-EVENT-REPORT requests are answered and kept in `events`.
        Returns ('pdu', type, body) for a PDU that is not P-DATA, None on close."""
        command, data, cid = b"", b"", None
        while True:
            pdu = recv_pdu(self.sock, timeout)
            if pdu is None:
                return None
            pdu_type, body = pdu
            if pdu_type != 0x04:
                return ("pdu", pdu_type, body)
            pos = 0
            done = False
            while pos < len(body):
                length, cid = struct.unpack(">LB", body[pos:pos + 5])
                header, fragment = body[pos + 5], body[pos + 6:pos + 4 + length]
                pos += 4 + length
                if header & 1:
                    command += fragment
                else:
                    data += fragment
                if header & 2:
                    cs = decode(BytesIO(command), True, True)
                    if header & 1 and cs.CommandDataSetType != 0x0101:
                        continue
                    done = True
            if not done:
                continue
            rsp = Response(cid, cs, data)
            if rsp.command_field == 0x0100 and answer_events:
                self.events.append(rsp)
                reply = command_set(0x8100, None, MessageIDBeingRespondedTo=cs.MessageID,
                                    AffectedSOPClassUID=cs.AffectedSOPClassUID, Status=0,
                                    AffectedSOPInstanceUID=cs.AffectedSOPInstanceUID, EventTypeID=cs.EventTypeID)
                self.send_message(cid, reply)
                command, data = b"", b""
                continue
            return rsp

    def request(self, context_id: int, command: bytes, data: bytes | None = None, timeout: float = 10.0):
        self.send_message(context_id, command, data)
        return self.receive(timeout)

    def release(self) -> bool:
        self.sock.sendall(struct.pack(">BBLL", 0x05, 0, 4, 0))
        while True:
            pdu = recv_pdu(self.sock, 10)
            if pdu is None or pdu[0] == 0x06:
                self.sock.close()
                return pdu is not None

    def abort(self) -> None:
        self.sock.sendall(struct.pack(">BBLBBBB", 0x07, 0, 4, 0, 0, 0, 0))
        self.sock.close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def parse_ac(body: bytes) -> tuple[dict[int, tuple[int, str]], int]:
    """{context ID: (result, transfer syntax)} and the acceptor's maximum PDU length."""
    pos, results, max_pdu = 68, {}, 0
    while pos < len(body):
        item_type, length = body[pos], struct.unpack(">H", body[pos + 2:pos + 4])[0]
        value = body[pos + 4:pos + 4 + length]
        if item_type == 0x21:
            ts = value[4 + 4:4 + 4 + struct.unpack(">H", value[6:8])[0]].decode().rstrip("\x00")
            results[value[0]] = (value[2], ts)
        elif item_type == 0x50:
            sub = 0
            while sub < len(value):
                sub_type, sub_len = value[sub], struct.unpack(">H", value[sub + 2:sub + 4])[0]
                if sub_type == 0x51:
                    max_pdu = struct.unpack(">L", value[sub + 4:sub + 8])[0]
                sub += 4 + sub_len
        pos += 4 + length
    return results, max_pdu


def associate(port: int, abstracts: list[str], **kwargs) -> RawAssociation:
    """An association proposing each abstract syntax on contexts 1, 3, 5 …; fails unless accepted."""
    sock = connect(port)
    contexts = [(1 + 2 * i, uid) for i, uid in enumerate(abstracts)]
    sock.sendall(associate_rq(contexts, **kwargs))
    pdu = recv_pdu(sock)
    assert pdu is not None and pdu[0] == 0x02, f"association not accepted: {pdu}"
    results, max_pdu = parse_ac(pdu[1])
    accepted = {uid: (cid, results[cid][1]) for cid, uid in contexts if results.get(cid, (1,))[0] == 0}
    return RawAssociation(sock, accepted, max_pdu or 1 << 30)
