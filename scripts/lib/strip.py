"""strip.py OUT.png HEIGHT IN.png...: the images side by side, each scaled
to HEIGHT (nearest), into one PNG: the demo's partials -> final strip.
strip.py --stack OUT.png IN.png...: the images one above the other, as
they are, on white (the demo's screenshots of the web view).
Reads 8-bit RGB/RGBA non-interlaced PNGs (what the demo's images are)."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, path
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        rows[-1] = b"".join(rows[-1])
        prev = line
    return w, h, rows


def main():
    out, height, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    imgs = [read_png(p) for p in paths]
    widths = [w * height // h for w, h, _ in imgs]
    gap = 8
    total = sum(widths) + gap * (len(imgs) - 1)
    lines = []
    for y in range(height):
        line = bytearray(b"\xff\xff\xff" * total)
        x0 = 0
        for (w, h, rows), tw in zip(imgs, widths):
            src = rows[y * h // height]
            for x in range(tw):
                sx = x * w // tw * 3
                line[(x0 + x) * 3:(x0 + x) * 3 + 3] = src[sx:sx + 3]
            x0 += tw + gap
        lines.append(b"\0" + bytes(line))

    write_png(out, total, height, lines)


def write_png(out, w, h, lines):
    """lines: h rows of filter byte 0 + w RGB pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(lines), 9)) + chunk(b"IEND", b""))
    open(out, "wb").write(png)


def stack(out, paths):
    imgs = [read_png(p) for p in paths]
    width, gap = max(w for w, _, _ in imgs), 16
    lines = []
    for i, (w, h, rows) in enumerate(imgs):
        if i > 0:
            lines += [b"\0" + b"\xff" * (3 * width)] * gap
        lines += [b"\0" + row + b"\xff" * (3 * (width - w)) for row in rows]
    write_png(out, width, len(lines), lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stack"]:
        stack(sys.argv[2], sys.argv[3:])
    else:
        main()
