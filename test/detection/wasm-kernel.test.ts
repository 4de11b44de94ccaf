import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { creditsRange } from '../../src/detection/explain.ts';
import { packForest, pathSums, scoreRange } from '../../src/detection/kernel.ts';
import { Random, sampleWithoutReplacement } from '../../src/detection/random.ts';
import { growTree } from '../../src/detection/tree.ts';
import { Layout, scoringKernel, setScoringKernel } from '../../src/detection/wasm-kernel.ts';
import { encodeModule, sleb, uleb } from '../../src/lib/wasm.ts';
import { edgeRows } from './helpers.ts';

after(() => setScoringKernel('wasm'));

/** Rows with heavy tails, repeated values, NaN and ±Infinity (NaN and -∞ go left, +∞ right, in both loops). */
const rows = edgeRows;

function forestFor(x: Float32Array, n: number, cols: number, trees: number, sample: number, maxDepth: number, seed: number) {
  const rng = new Random(seed);
  const fit = new Float32Array(x.map((v) => (Number.isFinite(v) ? v : 0)));
  const features = Int32Array.from({ length: cols }, (_, j) => j);
  const grown = Array.from({ length: trees }, () => growTree(fit, cols, sampleWithoutReplacement(rng, n, sample), features, maxDepth, rng));
  return packForest(grown, cols, sample);
}

function sums(kind: 'wasm' | 'js', run: () => Float64Array): Float64Array {
  setScoringKernel(kind);
  try {
    return run();
  } finally {
    setScoringKernel('wasm');
  }
}

test('the wasm scoring loop runs here (Node 20 has WebAssembly)', () => {
  assert.equal(scoringKernel(), 'wasm');
});

test('when the wasm loop sums path lengths, then they equal the JavaScript loop bit for bit', () => {
  const cases = [
    { n: 5000, cols: 6, trees: 100, sample: 256, depth: 8 },
    { n: 40_000, cols: 3, trees: 17, sample: 256, depth: 8 }, // more rows than one wasm chunk
    { n: 300, cols: 1, trees: 5, sample: 2, depth: 1 },
    { n: 50, cols: 4, trees: 3, sample: 1, depth: 0 }, // single-leaf trees (height 0)
  ];
  for (const [k, c] of cases.entries()) {
    const x = rows(c.n, c.cols, 10 + k);
    const forest = forestFor(x, c.n, c.cols, c.trees, c.sample, c.depth, 20 + k);
    assert.ok(forest.heap, 'heap-order trees');
    for (const [start, end, block] of [[0, c.n, 2048], [7, c.n - 3, 5], [1, 2, 1], [0, c.n, 1]] as const) {
      const js = sums('js', () => {
        const out = new Float64Array(end - start);
        pathSums(forest, x, start, end, out, block);
        return out;
      });
      const wasm = sums('wasm', () => {
        const out = new Float64Array(end - start);
        pathSums(forest, x, start, end, out, block);
        return out;
      });
      assert.deepEqual(wasm, js, `case ${k}, rows [${start}, ${end}), block ${block}`);
      assert.ok(js.every((v) => v > 0 || c.depth === 0), 'path lengths were summed');
    }
  }
});

test('when two forests alternate on one thread, then each is scored with its own trees', () => {
  const x = rows(2000, 4, 3);
  const a = forestFor(x, 2000, 4, 10, 256, 8, 1);
  const b = forestFor(x, 2000, 4, 12, 64, 6, 2);
  const score = (kind: 'wasm' | 'js', f: typeof a) =>
    sums(kind, () => {
      const out = new Float64Array(2000);
      scoreRange(f, x, 0, 2000, out);
      return out;
    });
  const expectA = score('js', a);
  const expectB = score('js', b);
  assert.notDeepEqual(expectA, expectB);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(score('wasm', a), expectA);
    assert.deepEqual(score('wasm', b), expectB);
  }
});

test('when the wasm loop computes explanation credits, then they equal the JavaScript loop bit for bit', () => {
  const cases = [
    { n: 3000, cols: 6, trees: 100, sample: 256, depth: 8 },
    { n: 20_000, cols: 2, trees: 9, sample: 256, depth: 8 }, // more rows than one wasm chunk
    { n: 40, cols: 3, trees: 4, sample: 1, depth: 0 },
  ];
  for (const [k, c] of cases.entries()) {
    // Fit on the middle of the data, explain everything: many rows fall outside the split ranges.
    const x = rows(c.n, c.cols, 30 + k);
    const forest = forestFor(x.map((v) => v / 4), c.n, c.cols, c.trees, c.sample, c.depth, 40 + k);
    if (c.depth > 0) assert.ok(forest.lo.some((v) => Number.isFinite(v)), 'the trees know their split ranges');
    for (const [start, end] of [[0, c.n], [5, c.n - 7], [3, 4]] as const) {
      const credits = (kind: 'wasm' | 'js') =>
        sums(kind, () => {
          const out = new Float64Array(c.n * c.cols).fill(-1);
          creditsRange(forest, x, start, end, out);
          return out;
        });
      const js = credits('js');
      assert.deepEqual(credits('wasm'), js, `case ${k}, rows [${start}, ${end})`);
      assert.equal(js[0], start === 0 ? js[0] : -1, 'rows outside the range are left alone');
      if (c.depth > 0) assert.ok(js.some((v) => v > 0), 'credits were given');
    }
  }
  // Rows that are not float32 take the JavaScript loop (the wasm walk reads float32 only).
  const x64 = Float64Array.from(rows(100, 2, 5));
  const forest = forestFor(new Float32Array(x64), 100, 2, 5, 64, 6, 6);
  const viaJs = sums('js', () => {
    const out = new Float64Array(200);
    creditsRange(forest, x64, 0, 100, out);
    return out;
  });
  const viaDefault = new Float64Array(200);
  creditsRange(forest, x64, 0, 100, viaDefault);
  assert.deepEqual(viaDefault, viaJs);
});

test('when wasm memory cannot grow to hold a forest, then the layout copies nothing and says so (the JavaScript loop runs)', () => {
  const full = new Layout(() => {
    throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
  });
  const values = Float64Array.of(1, 2, 3);
  full.add(values);
  assert.equal(full.commit(), false);

  const memory = new ArrayBuffer(256);
  let asked = 0;
  const fits = new Layout((bytes) => {
    asked = bytes;
    return memory;
  });
  const a = fits.add(Int32Array.of(7, 8, 9));
  const b = fits.add(values);
  assert.deepEqual([a, b % 16], [0, 0], 'arrays start 16-byte aligned');
  assert.equal(fits.commit(), true);
  assert.equal(asked, b + 24);
  assert.deepEqual([...new Int32Array(memory, a, 3)], [7, 8, 9]);
  assert.deepEqual([...new Float64Array(memory, b, 3)], [1, 2, 3]);
  // Another error is not a full memory: it is thrown.
  const broken = new Layout(() => {
    throw new TypeError('detached');
  });
  assert.throws(() => broken.commit(), TypeError);
});

test('a posted copy of a forest keeps its key (a worker keeps the forest it holds), and every packing has its own', () => {
  const x = rows(500, 3, 8);
  const a = forestFor(x, 500, 3, 4, 64, 6, 1);
  const b = forestFor(x, 500, 3, 4, 64, 6, 1);
  assert.notEqual(a.key, b.key, 'the same trees packed twice are two forests');
  const posted = structuredClone(a);
  assert.equal(posted.key, a.key);
  // Scoring the copy after the original (same key) uses what is held: the same sums.
  const score = (f: typeof a) => {
    const out = new Float64Array(500);
    scoreRange(f, x, 0, 500, out);
    return out;
  };
  assert.deepEqual(score(posted), score(a));
  assert.deepEqual(score(b), score(a));
});

test('the encoder writes LEB128 and a module WebAssembly accepts', () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  const bytes = encodeModule([{ name: 'noop', params: 2, i32Locals: 1, body: [] }]);
  assert.ok(WebAssembly.validate(bytes));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
  assert.equal(typeof instance.exports.noop, 'function');
});
