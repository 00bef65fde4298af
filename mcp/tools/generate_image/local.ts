/**
 * The local placeholder image backend: a deterministic PNG drawn from a SHA-256 of the prompt and the
 * step count, so the server works without Workers AI credentials. It is not AI-generated: a gradient
 * background with translucent discs, three discs per step, so more steps means visibly more detail.
 *
 * @module
 */
import { encode } from "fast-png";
import type { ImageGenerator } from "../../tool.ts";

/** Side length of the square placeholder image, in pixels. */
export const LOCAL_IMAGE_SIZE = 256;

/** The backend name reported in results and logs. */
export const LOCAL_GENERATOR_NAME = "local-placeholder";

const NOTE =
  "This is a local placeholder image, not AI-generated: its colours and shapes are derived from a " +
  "SHA-256 of the prompt. Configure Cloudflare Workers AI credentials for real image generation.";

const DISCS_PER_STEP = 3;

/**
 * Creates the local placeholder generator. Same prompt and steps give identical PNG bytes.
 *
 * @returns An {@linkcode ImageGenerator} named `local-placeholder` that resolves to `image/png` bytes.
 *
 * @example
 * ```ts
 * const image = createLocalImageGenerator();
 * const { bytes, mimeType } = await image.generate({ prompt: "a red fox", steps: 4 });
 * ```
 */
export function createLocalImageGenerator(): ImageGenerator {
  return {
    name: LOCAL_GENERATOR_NAME,
    async generate(request, signal) {
      signal?.throwIfAborted();
      const seed = await digest(`${request.steps}\n${request.prompt}`);
      signal?.throwIfAborted();
      const pixels = render(seed, request.steps);
      const bytes = encode({
        width: LOCAL_IMAGE_SIZE,
        height: LOCAL_IMAGE_SIZE,
        data: pixels,
        depth: 8,
        channels: 3,
        text: {
          Software: LOCAL_GENERATOR_NAME,
          Comment: "Local placeholder image, not AI-generated",
        },
      });
      return { bytes, mimeType: "image/png", note: NOTE };
    },
  };
}

async function digest(text: string): Promise<Uint8Array> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return new Uint8Array(hash);
}

/** Draws the RGB pixels: a diagonal two-colour gradient, then `steps * 3` blended discs. */
function render(seed: Uint8Array, steps: number): Uint8Array {
  const size = LOCAL_IMAGE_SIZE;
  const random = sfc32(seed);
  const from = hsl(random() * 360, 0.55, 0.3);
  const to = hsl(random() * 360, 0.65, 0.7);
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = (x + y) / (2 * (size - 1));
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) pixels[i + c] = Math.round(from[c]! + (to[c]! - from[c]!) * t);
    }
  }
  const discs = Math.max(1, Math.round(steps)) * DISCS_PER_STEP;
  for (let n = 0; n < discs; n++) {
    const cx = random() * size;
    const cy = random() * size;
    const r = 8 + random() * 48;
    const colour = hsl(random() * 360, 0.7, 0.35 + random() * 0.4);
    const alpha = 0.35 + random() * 0.4;
    disc(pixels, cx, cy, r, colour, alpha);
  }
  return pixels;
}

function disc(
  pixels: Uint8Array,
  cx: number,
  cy: number,
  r: number,
  colour: readonly number[],
  alpha: number,
): void {
  const size = LOCAL_IMAGE_SIZE;
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(size - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(size - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        pixels[i + c] = Math.round(pixels[i + c]! * (1 - alpha) + colour[c]! * alpha);
      }
    }
  }
}

/** HSL (degrees, 0–1, 0–1) to 8-bit RGB. */
function hsl(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

/** A small seeded PRNG (sfc32) over the 32-byte `seed`; returns floats in [0, 1). */
function sfc32(seed: Uint8Array): () => number {
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  const word = (i: number) => view.getUint32(i * 4) ^ view.getUint32(16 + i * 4);
  let a = word(0), b = word(1), c = word(2), d = word(3);
  const next = () => {
    a |= 0, b |= 0, c |= 0, d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
