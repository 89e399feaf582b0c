#!/usr/bin/env python3
"""Writes the first N images of an IDX image file (e.g. Fashion-MNIST's
train-images-idx3-ubyte.gz) as grey PNG files, with the standard library
only: a folder `synthfeat generate --textures` can use.
Usage: idx_to_png.py IDX OUT_DIR [N]"""
import gzip, os, struct, sys, zlib


def png(path, w, h, grey):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + grey[y * w:(y + 1) * w] for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main():
    src, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803:
            sys.exit(f"{src}: not an IDX image file (magic {magic:#x})")
        os.makedirs(out, exist_ok=True)
        for i in range(min(n, count)):
            png(os.path.join(out, f"{i:06d}.png"), cols, rows, f.read(rows * cols))
    print(f"wrote {min(n, count)} images to {out}")


if __name__ == "__main__":
    main()
