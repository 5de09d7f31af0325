#!/usr/bin/env python3
# make_seeds.py: writes the seed corpus of every fuzz target into corpus/NAME/
# (deterministic: the same files every run). Usage: make_seeds.py [DIR]
import base64
import os
import random
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "corpus")
rnd = random.Random(20240601)


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rbytes(n):
    return bytes(rnd.randrange(256) for _ in range(n))


# --- images -------------------------------------------------------------

def png_chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body +
            struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))


def png(w, h, ctype=6, trns=False):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0)
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = b"".join(b"\0" + b"\x80" * (w * chans) for _ in range(h))
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if ctype == 3:
        out += png_chunk(b"PLTE", b"\0\0\0\xff\xff\xff")
    if trns:
        out += png_chunk(b"tRNS", b"\0\0" if ctype == 0 else
                         b"\0\0\0\0\0\0" if ctype == 2 else b"\0")
    return out + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


def jpeg(w, h):
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xda\x00\x02\xff\xd9"


def riff(chunk, body):
    if len(body) & 1:
        body += b"\0"
    payload = b"WEBP" + chunk + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def webp_vp8l(w, h, alpha=1):
    bits = (w - 1) | (h - 1) << 14 | alpha << 28
    return riff(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\0" * 4)


def webp_vp8(w, h):
    size = 10
    tag = 0 | 0 << 1 | 1 << 4 | size << 5
    body = struct.pack("<I", tag)[:3] + b"\x9d\x01\x2a" + struct.pack("<HH", w, h)
    return riff(b"VP8 ", body + b"\0" * 8)


def webp_vp8x(w, h):
    body = b"\x10\0\0\0" + struct.pack("<I", w - 1)[:3] + struct.pack("<I", h - 1)[:3]
    return riff(b"VP8X", body)


IMAGES = {
    "png_rgba": png(4, 4),
    "png_rgb": png(3, 3, 2),
    "png_gray_trns": png(2, 2, 0, True),
    "png_pal_trns": png(2, 2, 3, True),
    "png_wide": png(16, 1),
    "jpeg": jpeg(8, 8),
    "jpeg_wide": jpeg(300, 20),
    "webp_vp8l": webp_vp8l(4, 4),
    "webp_vp8": webp_vp8(16, 16),
    "webp_vp8x": webp_vp8x(32, 32),
}


def gif_anim(w, h, frames):
    """A w x h GIF89a of 1x1 frames, each with a transparent colour."""
    head = b"GIF89a" + struct.pack("<HH", w, h) + b"\x80\0\0" + b"\0\0\0\xff\xff\xff"
    frame = (b"\x21\xf9\x04\x01\x0a\x00\x00\x00" + b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) +
             b"\x00\x02\x02\x44\x01\x00")
    return head + frame * frames + b";"


def seed_image():
    for name, data in IMAGES.items():
        write("image", name, data)
    write("image", "png_cut", IMAGES["png_rgba"][:40])
    write("image", "png_no_iend", IMAGES["png_rgba"][:-12])
    write("image", "jpeg_cut", IMAGES["jpeg"][:12])
    write("image", "webp_cut", IMAGES["webp_vp8l"][:18])
    write("image", "png_sig_only", b"\x89PNG\r\n\x1a\n")
    write("image", "png_zero", png(1, 1)[:16] + b"\0" * 8 + png(1, 1)[24:])
    write("image", "gif", b"GIF89a\x01\0\x01\0\0\0\0;")
    write("image", "gif_anim", gif_anim(8, 4, 3))
    write("image", "empty", b"")


# --- sse ----------------------------------------------------------------

SSE = [
    "event: image_edit.partial_image\ndata: {\"b64_json\":\"aGVsbG8=\"}\n\n"
    "event: image_edit.completed\ndata: {\"b64_json\":\"eHl6\"}\n\n",
    "data: a\r\ndata: b\r\n\r\nevent: e\r\ndata:c\r\n\r\n",
    "data: a\rdata: b\r\revent:x:y\rdata\r\r",
    "\xef\xbb\xbfdata: bom\n\n",
    "\xef\xbbdata: half bom\n\n",
    "\xef",
    ": comment\nid: 1\nretry: 1000\ndata: x\n\n: more\n",
    "event: a\nevent\ndata: x\n\nevent: b\n\ndata: 3\n\n",
    "Data: x\ndat: x\ndataa: x\ndatadatadata: x\neventevent: y\ndata\n\n",
    "data:\n\ndata: \n\ndata:  two spaces\n\n",
    "data: unterminated",
    "data: x\n",
    "error: x\ndata: {\"error\":{\"type\":\"server_error\"}}\n\n",
    "data: [DONE]\n\n",
    "\n\n\r\n\r\r\n",
    "data: " + "z" * 300 + "\n\n",
]


def seed_sse():
    for i, s in enumerate(SSE):
        for j, head in enumerate([b"\0\xff\xff", b"\x03\x01\x10", b"\x45\x07\x00"]):
            if j and i % 3 != j - 1:
                continue
            write("sse", "s%02d_%d" % (i, j), head + s.encode("latin-1"))


# --- base64 -------------------------------------------------------------

def b64(data, pad=True):
    s = base64.b64encode(data).decode()
    return s if pad else s.rstrip("=")


def seed_b64():
    n = 0
    for size in [0, 1, 2, 3, 23, 24, 25, 47, 48, 100, 257]:
        s = b64(rbytes(size), size % 2 == 0)
        for flags in [0, 1]:
            write("b64", "ok%03d_%d" % (size, flags), bytes([flags, size & 0xff]) + s.encode())
    long = b64(rbytes(120))
    variants = [
        long[:40] + " \n" + long[40:],
        long[:33] + "\\/" + long[35:],        # json escape in the middle
        long[:64] + "\\n" + long[64:],
        long[:50] + "*" + long[51:],
        long[:-1] + "==",
        "QQ=", "QQ==", "QQ= =", "QQ===", "QUI=", "Q", "QQ==QQ==", "=", "\\",
        "QUJD\\", "QU\\x", "QUJDRA", "QUJDRA==\n",
    ]
    for v in variants:
        for flags in [0, 1]:
            write("b64", "v%02d_%d" % (n, flags), bytes([flags, n * 7 & 0xff]) + v.encode())
        n += 1
    # map mode: any bytes are mostly alphabet characters
    for i in range(4):
        write("b64", "map%d" % i, bytes([2 | (i & 1), i * 5]) + rbytes(200))


# --- payload ------------------------------------------------------------

DOCS = [
    '{"type":"image_edit.partial_image","b64_json":"aGVsbG8=","partial_image_index":0}',
    '{"created":1,"data":[{"b64_json":"YWJj"},{"b64_json":"ZGVm"},{"url":"x"}],'
    '"usage":{"total_tokens":3}}',
    '{ "b64_json" :\t"P\\/8\\n/" }',
    '{"a":"b64_json","m":"say \\"b64_json\\"","b64_json":"eHl6"}',
    '{"b64_json":null,"b64_jsonx":"YQ=="}',
    '[DONE]',
    '',
    '{"b64_json":"aGV*bG8="}',
    '{"b64_json":"YQ"}',
    '{"b64_json":"Y"}',
    '{"b64_json":"YQ\\"}',
    '{"b64_json":"YQ==',
    '{"error":{"message":"bad \\u0022 thing","type":"invalid_request_error"}}',
]


def seed_payload():
    for i, d in enumerate(DOCS):
        write("payload", "doc%02d" % i, bytes([2 * (i % 4), i * 11 & 0xff, 0, 40 + i]) + d.encode())
    big = '{"data":[{"b64_json":"%s"}]}' % b64(rbytes(300))
    write("payload", "doc_big", b"\x00\x05\x01\x00" + big.encode())
    write("payload", "doc_big_small", b"\x02\x06\x00\x40" + big.encode())
    vals = [b64(rbytes(n), n % 3 != 1) for n in (0, 1, 2, 5, 40, 100)]
    vals += [vals[-1][:30] + "\\/" + vals[-1][32:], "YQ\\n==", "YQ=\\n=", "Y\\u0051",
             "YQ= =", "YQ==YQ==", "\\", "abc\\"]
    for i, v in enumerate(vals):
        write("payload", "val%02d" % i, bytes([1, i * 13 & 0xff, 0, 0]) + v.encode())


# --- log_quote ----------------------------------------------------------

def seed_log_quote():
    strs = [b"", b"plain text", b'"' * 146 + b"\nx", b"\x01\x1f\x7f\\\"",
            b"tab\there", bytes(range(1, 256)), b"a" * 700, b'\\"' * 100]
    sizes = [0, 1, 7, 8, 9, 12, 13, 40, 300, 600]
    for i, s in enumerate(strs):
        for j, n in enumerate(sizes):
            if (i + j) % 3 == 0:
                write("log_quote", "q%d_%03d" % (i, n), struct.pack(">H", n) + s)


# --- headers ------------------------------------------------------------

def seed_headers():
    vals = ["120", "1.5", "0", " 30", "30 ", "Wed, 21 Oct 2015 07:28:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994", "6m0s", "1h2m3.5s", "850ms", "1s", "90",
            "1500ms", "2h", "7d", "10m", "1e3", "0x10", "-1", "inf",
            "1e400", "99999999999999", "1.5e2ms", ""]
    for i, v in enumerate(vals):
        write("headers", "h%02d" % i, struct.pack(">H", 25000 + i) + v.encode())


# --- jobspec ------------------------------------------------------------

def job(head, inputs, params, errlen=200):
    out = bytes([head, errlen])
    for role, ctype, name, data in inputs:
        out += bytes([role | ctype << 1 | name << 4]) + struct.pack(">H", len(data)) + data
    return out + params.encode()


def seed_jobspec():
    p, j, w = IMAGES["png_rgba"], IMAGES["jpeg"], IMAGES["webp_vp8l"]
    mask = png(4, 4)
    cases = [
        (1, [(0, 2, 2, p)], '{"prompt":"a cat","model":"dall-e-2","size":"256x256","n":2}'),
        (1, [(0, 0, 0, p)], '{"prompt":"a cat"}'),
        (2, [(0, 2, 2, p), (1, 2, 3, mask)], '{"prompt":"x","size":"512x512","response_format":"b64_json"}'),
        (3 | 4, [(0, 3, 1, j), (0, 4, 2, w), (1, 0, 3, mask)],
         '{"prompt":"x","model":"gpt-image-1","quality":"high","background":"transparent",'
         '"output_format":"webp","output_compression":"50","partial_images":2,"input_fidelity":"high"}'),
        (2, [(0, 6, 0, j), (0, 1, 0, p)], '{"prompt":"x","quality":"low","size":"1536x1024","n":"3"}'),
        (1, [(0, 5, 2, p)], '{"prompt":"x","model":"some-future-model","n":99,"stream":true}'),
        (1 | 4, [(0, 0, 2, IMAGES["png_rgb"])], '{"prompt":"x","stream":false}'),
        (1, [(0, 0, 2, p)], '{"prompt":"\u00e9\\u00e9\\ud83d\\ude00","user":"u","n":null,"model":null}'),
        (1, [(0, 0, 2, p)], '{"prompt":"x","image":"no"}'),
        (0, [], '{"prompt":"x","output_format":"jpeg","background":"transparent","model":"gpt-image-1"}'),
        (0, [], '[1,2]'),
        (0, [], 'not json'),
        (1, [(0, 0, 0, b"\x89PNG")], '{"prompt":"' + "long " * 300 + '"}'),
    ]
    for i, (head, inputs, params) in enumerate(cases):
        write("jobspec", "j%02d" % i, job(head, inputs, params))
    write("jobspec", "j_errlen1", job(1, [(0, 0, 0, p)], '{"model":5}', 1))


# --- config -------------------------------------------------------------

def seed_config():
    texts = [
        "concurrency = 8\nrpm = 0\nipm = 0\nconnect-timeout = 10s\n",
        "# comment\n\ndb = /var/lib/imgedit/queue.db\nbase-url = https://api.openai.com/v1/\n"
        "api-key-file = /run/key\norganization = org\nproject = \n",
        "retry-base = 1s\nretry-max = 60s\nretry-after-max = 10m\npause-probe = 5s\n"
        "pause-probe-max = 5m\nstall-timeout = 120s\ntotal-timeout = 0\nlease = 60s\n"
        "grace = 30s\npoll-interval = 200ms\nheartbeat = 2s\n",
        "max-event-bytes = 67108864\nmemory-max = 536870912\nlog-level = debug\n",
        "concurrency = 0\nrpm = -1\nbogus = 1\nnoequals\n",
        "  rpm=60  \r\nipm =\t10\r\nlog-level = warn\n",
        "lease = 1.5h\ngrace = -0\nretry-base = 1e3ms\nheartbeat = 0x10s\n",
        "base-url = ftp://x\ndb =\nconcurrency = 99999999999999999999\n",
    ]
    for i, t in enumerate(texts):
        write("config", "c%d_set" % i, b"\0" + t.encode())
        write("config", "c%d_load" % i, bytes([1 | (i & 1) << 1]) + t.encode())


seed_image()
seed_sse()
seed_b64()
seed_payload()
seed_log_quote()
seed_headers()
seed_jobspec()
seed_config()
