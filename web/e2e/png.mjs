// Tiny PNG encoder for test images (no image library needed).
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** Encodes an RGB image; `pixel(x, y)` returns [r, g, b]. */
export function encodePng(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw.set([r, g, b], row + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** A small bar chart on a soft gradient: reads as a "dashboard" screenshot. */
export function chartPng(width = 360, height = 220) {
  const bars = [0.35, 0.55, 0.45, 0.7, 0.62, 0.85, 0.78];
  const barW = Math.floor((width - 60) / bars.length);
  return encodePng(width, height, (x, y) => {
    const t = y / height;
    let px = [Math.round(243 - 20 * t), Math.round(244 - 14 * t), 255];
    if (y === height - 30 && x > 24 && x < width - 24) px = [180, 184, 210];
    const i = Math.floor((x - 30) / barW);
    const inBar = x >= 30 && i < bars.length && (x - 30) % barW > 6;
    const top = height - 30 - Math.round((bars[i] ?? 0) * (height - 60));
    if (inBar && y >= top && y < height - 30) {
      const k = i / bars.length;
      px = [Math.round(79 + 60 * k), Math.round(70 + 40 * k), Math.round(229 - 20 * k)];
    }
    return px;
  });
}

/** A round-ish avatar picture: a warm radial gradient. */
export function avatarPng(size = 96) {
  return encodePng(size, size, (x, y) => {
    const d = Math.hypot(x - size * 0.35, y - size * 0.3) / size;
    return [Math.round(250 - 80 * d), Math.round(170 - 90 * d), Math.round(90 + 60 * d)];
  });
}
