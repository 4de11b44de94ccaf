/**
 * A string dictionary keyed by the field's bytes: looking up a repeated value (an address, a
 * protocol name) hashes and compares bytes and creates no string; only a new value is decoded.
 */
export class ByteDictionary {
  readonly strings: string[] = [];
  private table = new Int32Array(1024).fill(-1);
  private mask = 1023;
  private hashes = new Int32Array(256);
  private starts = new Int32Array(256);
  private lengths = new Int32Array(256);
  private pool = new Uint8Array(16384);
  private poolUsed = 0;

  get size(): number {
    return this.strings.length;
  }

  /** The bytes of code c's value (a view of the dictionary's own storage). */
  bytes(c: number): Uint8Array {
    return this.pool.subarray(this.starts[c], this.starts[c] + this.lengths[c]);
  }

  /** The code of buf[s, e), adding it when new. */
  code(buf: Buffer, s: number, e: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = s; i < e; i++) {
      h ^= buf[i];
      h = Math.imul(h, 0x01000193);
    }
    const len = e - s;
    let slot = h & this.mask;
    for (;;) {
      const c = this.table[slot];
      if (c < 0) break;
      if (this.hashes[c] === h && this.lengths[c] === len) {
        const st = this.starts[c];
        const pool = this.pool;
        let i = 0;
        while (i < len && pool[st + i] === buf[s + i]) i++;
        if (i === len) return c;
      }
      slot = (slot + 1) & this.mask;
    }
    return this.add(buf, s, e, h, slot);
  }

  private add(buf: Buffer, s: number, e: number, h: number, slot: number): number {
    const c = this.strings.length;
    const len = e - s;
    if (c === this.hashes.length) {
      this.hashes = growInt(this.hashes);
      this.starts = growInt(this.starts);
      this.lengths = growInt(this.lengths);
    }
    if (this.poolUsed + len > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + len));
      p.set(this.pool.subarray(0, this.poolUsed));
      this.pool = p;
    }
    this.pool.set(buf.subarray(s, e), this.poolUsed);
    this.starts[c] = this.poolUsed;
    this.lengths[c] = len;
    this.hashes[c] = h;
    this.poolUsed += len;
    this.strings.push(buf.toString('utf8', s, e));
    this.table[slot] = c;
    if ((c + 1) * 2 > this.table.length) this.rehash();
    return c;
  }

  private rehash(): void {
    const n = this.table.length * 2;
    const t = new Int32Array(n).fill(-1);
    const mask = n - 1;
    for (let c = 0; c < this.strings.length; c++) {
      let slot = this.hashes[c] & mask;
      while (t[slot] >= 0) slot = (slot + 1) & mask;
      t[slot] = c;
    }
    this.table = t;
    this.mask = mask;
  }
}

function growInt(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
