/** Builders for detector tests. */
import { Random } from '../../src/detection/random.ts';
import type { Matrix } from '../../src/detection/types.ts';

/** Seeded Gaussian-ish matrix (sum of uniforms), rows × cols, plus optional outliers appended. */
export function gaussianMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new Random(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextDouble() + rng.nextDouble() + rng.nextDouble() - 1.5;
  return { data, rows, cols };
}

/** Columns (one Float64Array per feature) from a row-major matrix. */
export function toColumns(m: Matrix): Float64Array[] {
  const cols: Float64Array[] = [];
  for (let c = 0; c < m.cols; c++) {
    const col = new Float64Array(m.rows);
    for (let r = 0; r < m.rows; r++) col[r] = m.data[r * m.cols + c];
    cols.push(col);
  }
  return cols;
}

/**
 * Seeded float32 rows (n × cols, row-major) with the values a tree walk must get right: heavy tails,
 * many repeats (1.5), NaN and ±Infinity.
 */
export function edgeRows(n: number, cols: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const x = new Float32Array(n * cols);
  for (let i = 0; i < x.length; i++) {
    const u = rng.nextDouble();
    x[i] = u < 0.01 ? NaN : u < 0.015 ? Infinity : u < 0.02 ? -Infinity : u < 0.2 ? 1.5 : Math.exp(4 * (rng.nextDouble() - 0.5));
  }
  return x;
}
