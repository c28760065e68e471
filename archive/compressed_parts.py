"""
Gzip answers assembled from parts compressed ahead of time.

A page whose bulk is kept rendered (the reading page's text and margin) need
not be compressed again on every request: each kept part is compressed once
(``compressed_part``), and an answer is one gzip stream stitched together
from those parts and the few bytes rendered for the request (``gzip_join``).

A deflate stream may be cut into pieces compressed apart: each piece ends on
a byte boundary with a sync flush and refers back only to its own bytes, and
only the last one is final. The gzip trailer's CRC-32 of the whole is
combined from each kept part's own CRC without reading its bytes again
(zlib's ``crc32_combine``, which Python doesn't expose: the arithmetic is
over GF(2), after zlib's ``crc32.c``).
"""

import struct
import zlib
from collections import namedtuple

POLYNOMIAL = 0xEDB88320  # CRC-32's, reflected
# A kept part is compressed once, by the request that draws it: zlib's default, a quarter fewer bytes than
# level 1 for 2.5 times the time (level 9 saves 5 % more for twice as long again).
KEPT_LEVEL = 6
REQUEST_LEVEL = 1  # compressed on every request: the fastest
# The gzip header: deflate, no name, no time, "unknown" OS (RFC 1952, 2.3).
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _times_modulo(a, b):
    """``a`` times ``b`` modulo the CRC polynomial, both reflected."""
    product, bit = 0, 1 << 31
    while a:
        if a & bit:
            product ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ POLYNOMIAL if b & 1 else b >> 1
    return product


def _powers():
    """x to the power 2**n modulo the polynomial, for n = 0..31: what shifting by 2**n bits multiplies by."""
    powers, power = [], 1 << 30  # x**1
    for _ in range(32):
        powers.append(power)
        power = _times_modulo(power, power)
    return powers


POWERS = _powers()


def crc_shift(length):
    """The factor that moves a CRC past ``length`` bytes of zeros (zlib's ``crc32_combine_gen``)."""
    factor, n, bits = 1 << 31, 0, length * 8  # 1 << 31 is 1, reflected
    while bits:
        if bits & 1:
            factor = _times_modulo(POWERS[n % 32], factor)
        bits >>= 1
        n += 1
    return factor


class CompressedPart(namedtuple("CompressedPart", "raw deflated crc shift")):
    """Bytes kept with their deflate stream (sync-flushed, not final), their CRC-32 and ``crc_shift``."""

    __slots__ = ()


def compressed_part(raw):
    """``raw`` (bytes) compressed once, to be joined into answers by ``gzip_join``."""
    compressor = zlib.compressobj(KEPT_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return CompressedPart(raw, deflated, zlib.crc32(raw), crc_shift(len(raw)))


def crc_followed_by(crc, part):
    """The CRC-32 of bytes whose CRC is ``crc`` followed by ``part``'s (zlib's ``crc32_combine``)."""
    return _times_modulo(part.shift, crc) ^ part.crc


def gzip_join(parts):
    """
    One gzip stream of ``parts`` in order: ``bytes`` compressed now, each
    ``CompressedPart`` as it was compressed ahead.
    """
    out, crc, length = [GZIP_HEADER], 0, 0
    for part in parts:
        if isinstance(part, CompressedPart):
            out.append(part.deflated)
            crc = crc_followed_by(crc, part)
            length += len(part.raw)
        elif part:
            compressor = zlib.compressobj(REQUEST_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
            out.append(compressor.compress(part) + compressor.flush(zlib.Z_SYNC_FLUSH))
            crc = zlib.crc32(part, crc)
            length += len(part)
    out.append(b"\x03\x00")  # an empty final block (fixed Huffman codes, end of block at once)
    out.append(struct.pack("<II", crc, length & 0xFFFFFFFF))
    return b"".join(out)


def _raw(part):
    return part.raw if isinstance(part, CompressedPart) else part


def joined_raw(parts):
    """What ``gzip_join(parts)`` decompresses to."""
    return b"".join(map(_raw, parts))
