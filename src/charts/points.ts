/**
 * Fast drawing of many scatter points. Chart.js draws each point as its own antialiased path
 * (a fill and a stroke through cairo, ~5 µs a triangle) after building an element per point. Here
 * each marker is drawn once by Chart.js' own drawPoint, at 4×4 sub-pixel offsets, into small
 * sprites; the points are then composited ("source over", as cairo does) straight into the pixels
 * of the plot area. The result matches Chart.js' drawing to within a quarter pixel of position and
 * ±1 of a colour channel.
 */
import { drawPoint } from 'chart.js/helpers';
import type { PointStyle } from 'chart.js';

/** Sub-pixel positions per axis. */
const STEPS = 4;

export interface MarkerStyle {
  readonly pointStyle: PointStyle & string;
  readonly radius: number;
  readonly borderWidth: number;
  readonly backgroundColor: string;
  readonly borderColor: string;
}

/** One marker at each sub-pixel offset: its non-transparent pixels, premultiplied. */
export interface Sprites {
  /** The marker's centre at sub-pixel offset (fx, fy) is sprite `fy * STEPS + fx`, drawn at (half + fx/STEPS, half + fy/STEPS). */
  readonly half: number;
  readonly size: number;
  readonly variants: readonly SpritePixels[];
}

/** The covered pixels of a sprite: position (sprite x, y) and premultiplied colour; `keep` = (255 - alpha) / 255. */
export interface SpritePixels {
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly r: Float64Array;
  readonly g: Float64Array;
  readonly b: Float64Array;
  readonly a: Float64Array;
  readonly keep: Float64Array;
  /** Bounding box of the covered pixels (inclusive). */
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

/** What the sprites are drawn with: a small canvas and its raw ARGB32 pixels. */
export interface SpriteCanvasFactory {
  (width: number, height: number): {
    getContext(type: '2d'): unknown;
    toBuffer(format: 'raw'): Buffer;
  };
}

const cache = new Map<string, Sprites>();

export function markerSprites(style: MarkerStyle, createCanvas: SpriteCanvasFactory): Sprites {
  const key = JSON.stringify(style);
  const hit = cache.get(key);
  if (hit) return hit;
  // Room for the marker, its border and the sub-pixel shift.
  const half = Math.ceil(style.radius + style.borderWidth) + 2;
  const size = 2 * half + 1;
  const variants: SpritePixels[] = [];
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let fy = 0; fy < STEPS; fy++) {
    for (let fx = 0; fx < STEPS; fx++) {
      const canvas = createCanvas(size, size);
      const ctx = canvas.getContext('2d') as Parameters<typeof drawPoint>[0];
      // As Chart.js' PointElement.draw does.
      ctx.strokeStyle = style.borderColor;
      ctx.lineWidth = style.borderWidth;
      ctx.fillStyle = style.backgroundColor;
      drawPoint(ctx, { pointStyle: style.pointStyle, radius: style.radius, borderWidth: style.borderWidth, rotation: 0 }, half + fx / STEPS, half + fy / STEPS);
      // cairo ARGB32 in native-endian words: colours premultiplied, as compositing wants them.
      const raw = canvas.toBuffer('raw');
      const px: number[][] = [];
      for (let i = 0; i < size * size; i++) {
        const o = i * 4;
        const [b, g, r, a] = little ? [raw[o], raw[o + 1], raw[o + 2], raw[o + 3]] : [raw[o + 3], raw[o + 2], raw[o + 1], raw[o]];
        if (a > 0) px.push([i % size, Math.floor(i / size), r, g, b, a]);
      }
      const col = (k: number) => Float64Array.from(px, (p) => p[k]);
      const xs = Int32Array.from(px, (p) => p[0]);
      const ys = Int32Array.from(px, (p) => p[1]);
      variants.push({
        x: xs,
        y: ys,
        r: col(2),
        g: col(3),
        b: col(4),
        a: col(5),
        keep: Float64Array.from(px, (p) => (255 - p[5]) / 255),
        minX: px.length ? Math.min(...xs) : 0,
        minY: px.length ? Math.min(...ys) : 0,
        maxX: px.length ? Math.max(...xs) : -1,
        maxY: px.length ? Math.max(...ys) : -1,
      });
    }
  }
  const sprites = { size, half, variants };
  if (cache.size > 64) cache.clear();
  cache.set(key, sprites);
  return sprites;
}

/** A rectangle of RGBA pixels (an ImageData's data) at (left, top) of the canvas. */
export interface PixelRect {
  readonly data: Uint8ClampedArray;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Composites a marker at each (xs[k], ys[k]) (canvas pixels, in order, later on top) onto `target`,
 * keeping within `clip` (canvas pixels, inclusive left/top, exclusive right/bottom). The target is
 * straight RGBA as getImageData gives it; drawing is exact for opaque target pixels (our charts have
 * a white background), which stay opaque.
 */
export function drawMarkers(
  target: PixelRect,
  sprites: Sprites,
  xs: Float64Array,
  ys: Float64Array,
  clip: { left: number; top: number; right: number; bottom: number },
): void {
  const { data, width } = target;
  const { half, variants } = sprites;
  // The clip in target coordinates.
  const cx0 = Math.max(clip.left, target.left) - target.left;
  const cy0 = Math.max(clip.top, target.top) - target.top;
  const cx1 = Math.min(clip.right, target.left + target.width) - target.left;
  const cy1 = Math.min(clip.bottom, target.top + target.height) - target.top;
  // Each variant's pixels as offsets into `data` from the sprite's origin.
  const offsets = variants.map((v) => Int32Array.from(v.x, (x, j) => (v.y[j] * width + x) * 4));
  for (let k = 0; k < xs.length; k++) {
    const px = xs[k];
    const py = ys[k];
    if (!(px > -1e6 && px < 1e6 && py > -1e6 && py < 1e6)) continue; // NaN or far off
    let ix = Math.floor(px);
    let iy = Math.floor(py);
    let fx = Math.round((px - ix) * STEPS);
    let fy = Math.round((py - iy) * STEPS);
    if (fx === STEPS) {
      fx = 0;
      ix++;
    }
    if (fy === STEPS) {
      fy = 0;
      iy++;
    }
    const v = variants[fy * STEPS + fx];
    // Sprite pixel (sx, sy) lands on target pixel (ox + sx, oy + sy).
    const ox = ix - half - target.left;
    const oy = iy - half - target.top;
    const { r, g, b, a, keep } = v;
    const n = r.length;
    if (ox + v.minX >= cx0 && ox + v.maxX < cx1 && oy + v.minY >= cy0 && oy + v.maxY < cy1) {
      const off = offsets[fy * STEPS + fx];
      const base = (oy * width + ox) * 4;
      for (let j = 0; j < n; j++) {
        const d = base + off[j];
        const q = keep[j];
        data[d] = r[j] + data[d] * q;
        data[d + 1] = g[j] + data[d + 1] * q;
        data[d + 2] = b[j] + data[d + 2] * q;
        data[d + 3] = a[j] + data[d + 3] * q;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const tx = ox + v.x[j];
        const ty = oy + v.y[j];
        if (tx < cx0 || tx >= cx1 || ty < cy0 || ty >= cy1) continue;
        const d = (ty * width + tx) * 4;
        const q = keep[j];
        data[d] = r[j] + data[d] * q;
        data[d + 1] = g[j] + data[d + 1] * q;
        data[d + 2] = b[j] + data[d + 2] * q;
        data[d + 3] = a[j] + data[d + 3] * q;
      }
    }
  }
}
