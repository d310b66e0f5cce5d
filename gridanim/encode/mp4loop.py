"""Play an MP4 several times over by repeating its samples: no re-encode, no second ffmpeg run.

The MP4 that ffmpeg writes here (``+faststart``: ``ftyp``, ``moov``, ``mdat``; one video track; one
edit; chunk offsets in ``stco``) is repeated by copying the ``mdat`` payload and extending the sample
tables: sample sizes and durations repeat, key frames and chunks are numbered on, chunk offsets point at
each copy, and the durations in ``mvhd``, ``tkhd``, ``mdhd`` and the edit list are multiplied. The
result decodes to the same frames with the same timestamps as ``ffmpeg -stream_loop N-1 -c copy``
(tests compare the two), which costs a second ffmpeg process.

Anything else (``co64``, composition offsets, several tracks or edits, ``mdat`` before ``moov``) is
left to that ffmpeg run: :func:`repeat_mp4` returns None.
"""

from __future__ import annotations

import struct

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}
# the sample tables this module knows how to extend; any other box in stbl means "not this layout"
_STBL_KNOWN = {b"stsd", b"stts", b"stss", b"stsc", b"stsz", b"stco"}


class _Unsupported(Exception):
    pass


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of the boxes in ``data[start:end]``."""
    out = []
    off = start
    while off < end:
        if end - off < 8:
            raise _Unsupported("truncated box header")
        size, kind = struct.unpack_from(">I4s", data, off)
        head = 8
        if size == 1:
            size, head = struct.unpack_from(">Q", data, off + 8)[0], 16
        elif size == 0:
            size = end - off
        if size < head or off + size > end:
            raise _Unsupported(f"bad size for {kind!r}")
        out.append((kind, off, off + head, off + size))
        off += size
    return out


def _box(kind: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        raise _Unsupported("box too large")
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


class _Loop:
    def __init__(self, times: int, mdat_len: int):
        self.times = times
        self.mdat_len = mdat_len
        self.samples = 0  # samples per pass (from stsz)
        self.chunks = 0  # chunks per pass (from stco)
        self.shift = 0  # how far the mdat payload moves (moov grows)
        self.tracks = 0

    # -- leaf boxes ---------------------------------------------------------------------------
    def _duration(self, p: bytes, at32: int, at64: int) -> bytes:
        """Multiply the duration field at offset ``at32`` (version 0) or ``at64`` (version 1)."""
        b = bytearray(p)
        if p[0] == 0:
            (d,) = struct.unpack_from(">I", p, at32)
            if d * self.times > 0xFFFFFFFF:
                raise _Unsupported("duration overflows version 0")
            struct.pack_into(">I", b, at32, d * self.times)
        elif p[0] == 1:
            (d,) = struct.unpack_from(">Q", p, at64)
            struct.pack_into(">Q", b, at64, d * self.times)
        else:
            raise _Unsupported("unknown box version")
        return bytes(b)

    def leaf(self, kind: bytes, p: bytes) -> bytes:
        n = self.times
        if kind == b"mvhd":
            return self._duration(p, 16, 24)
        if kind == b"tkhd":
            return self._duration(p, 20, 28)
        if kind == b"mdhd":
            return self._duration(p, 16, 24)
        if kind == b"elst":
            (count,) = struct.unpack_from(">I", p, 4)
            if count != 1:
                raise _Unsupported("more than one edit")
            # media_time follows segment_duration (4 or 8 bytes by version); -1 marks an empty edit
            (media,) = struct.unpack_from(">i", p, 12) if p[0] == 0 else struct.unpack_from(">q", p, 16)
            if media < 0:
                raise _Unsupported("empty edit")
            return self._duration(p, 8, 8)
        if kind == b"stts":
            (count,) = struct.unpack_from(">I", p, 4)
            entries = p[8 : 8 + 8 * count]
            return p[:4] + struct.pack(">I", count * n) + entries * n
        if kind == b"stss":
            (count,) = struct.unpack_from(">I", p, 4)
            keys = struct.unpack_from(f">{count}I", p, 8)
            out = [k + r * self.samples for r in range(n) for k in keys]
            return p[:4] + struct.pack(f">I{len(out)}I", len(out), *out)
        if kind == b"stsc":
            (count,) = struct.unpack_from(">I", p, 4)
            rows = [struct.unpack_from(">III", p, 8 + 12 * i) for i in range(count)]
            out = b"".join(
                struct.pack(">III", first + r * self.chunks, per, desc) for r in range(n) for first, per, desc in rows
            )
            return p[:4] + struct.pack(">I", count * n) + out
        if kind == b"stsz":
            size, count = struct.unpack_from(">II", p, 4)
            sizes = p[12 : 12 + 4 * count] if size == 0 else b""
            return p[:4] + struct.pack(">II", size, count * n) + sizes * n
        if kind == b"stco":
            (count,) = struct.unpack_from(">I", p, 4)
            offs = struct.unpack_from(f">{count}I", p, 8)
            out = [o + self.shift + r * self.mdat_len for r in range(n) for o in offs]
            if max(out) > 0xFFFFFFFF:
                raise _Unsupported("offsets need co64")
            return p[:4] + struct.pack(f">I{len(out)}I", len(out), *out)
        return p

    # -- containers ---------------------------------------------------------------------------
    def count(self, data: bytes, start: int, end: int) -> None:
        """Samples and chunks per pass, and the layout checks, before anything is rewritten."""
        for kind, _s, ps, e in _boxes(data, start, end):
            if kind == b"trak":
                self.tracks += 1
            if kind == b"stbl":
                kinds = {k for k, *_ in _boxes(data, ps, e)}
                if not kinds <= _STBL_KNOWN:
                    raise _Unsupported(f"sample table boxes {sorted(kinds - _STBL_KNOWN)}")
            if kind == b"stsz":
                self.samples += struct.unpack_from(">I", data, ps + 8)[0]
            elif kind == b"stco":
                self.chunks += struct.unpack_from(">I", data, ps + 4)[0]
            elif kind in _CONTAINERS:
                self.count(data, ps, e)

    def rebuild(self, data: bytes, start: int, end: int) -> bytes:
        parts = []
        for kind, _s, ps, e in _boxes(data, start, end):
            if kind in _CONTAINERS:
                parts.append(_box(kind, self.rebuild(data, ps, e)))
            else:
                parts.append(_box(kind, self.leaf(kind, data[ps:e])))
        return b"".join(parts)


def repeat_mp4(data: bytes, times: int) -> bytes | None:
    """``data`` (an MP4 as ffmpeg writes it here) playing ``times`` times in a row, or None if its layout differs."""
    if times <= 1:
        return data
    try:
        top = _boxes(data, 0, len(data))
        kinds = [k for k, *_ in top]
        if kinds.count(b"moov") != 1 or kinds.count(b"mdat") != 1 or kinds.index(b"moov") > kinds.index(b"mdat"):
            return None
        _, ms, mps, me = top[kinds.index(b"moov")]
        _, ds, dps, de = top[kinds.index(b"mdat")]
        if dps - ds != 8:
            return None
        loop = _Loop(times, de - dps)
        loop.count(data, mps, me)
        if loop.tracks != 1 or loop.samples == 0 or loop.chunks == 0:
            return None
        # the offsets depend on how much moov grows, which does not depend on the offsets' values
        grown = len(_box(b"moov", loop.rebuild(data, mps, me))) - (me - ms)
        loop.shift = grown
        moov = _box(b"moov", loop.rebuild(data, mps, me))
        payload = data[dps:de]
        out = []
        for kind, s, _ps, e in top:
            if kind == b"moov":
                out.append(moov)
            elif kind == b"mdat":
                out.append(_box(b"mdat", payload * times))
            else:
                out.append(data[s:e])
        return b"".join(out)
    except (_Unsupported, struct.error):
        return None
