/**
 * Value decoding straight from bytes: numbers and timestamps, without building a string per field.
 * Both decoders report through a small status object so the hot loop allocates nothing.
 */

/** Outcome of the last decode (plain numbers: the hot loop compares small integers). */
export const ST_OK = 0;
export const ST_MISSING = 1;
export const ST_INVALID = 2;
/** A number that is not finite ('inf', '-Infinity'). */
export const ST_NONFINITE = 3;

export interface DecodeResult {
  status: number;
  /** For time decoding: true when the value was written as a number (epoch), false for ISO text. */
  epoch: boolean;
}

const POW10 = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
];

/** 2^53: every integer up to here is a double, so the mantissa stays exact. */
const MAX_EXACT = 9007199254740992;
const D0 = 48;
const D9 = 57;

function lowerAscii(buf: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e && out.length < 16; i++) {
    const c = buf[i];
    out += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return out;
}

function latin1(buf: Uint8Array, s: number, e: number): string {
  return Buffer.prototype.latin1Slice.call(buf, s, e) as string;
}

/**
 * Decodes a decimal number (optional sign, digits, optional fraction, optional exponent) from
 * buf[s, e). Empty, 'nan' → Missing; 'inf'/'infinity' (any case, signed) and literals that overflow a
 * double (1e999) → NonFinite with ±Infinity;
 * anything else that is not a number → Invalid. The result equals `Number(text)` bit for bit:
 * the fast path is exact (Clinger: an integer mantissa <= 2^53 times or divided by an exact power of
 * ten is one correctly rounded operation), every
 * other case falls back to the engine's own correctly rounded conversion.
 */
export function decodeNumber(buf: Uint8Array, s: number, e: number, out: DecodeResult): number {
  if (s >= e) {
    out.status = ST_MISSING;
    return NaN;
  }
  let p = s;
  let c = buf[p];
  let neg = false;
  if (c === 45 /* - */ || c === 43 /* + */) {
    neg = c === 45;
    p++;
  }
  let mant = 0;
  let digits = 0; // all mantissa digits seen
  let exp10 = 0;
  let exact = true;
  while (p < e) {
    c = buf[p];
    if (c < D0 || c > D9) break;
    digits++;
    const next = mant * 10 + (c - D0);
    if (exact && next <= MAX_EXACT) mant = next;
    else {
      exact = false;
      exp10++;
    }
    p++;
  }
  if (p < e && buf[p] === 46 /* . */) {
    p++;
    while (p < e) {
      c = buf[p];
      if (c < D0 || c > D9) break;
      digits++;
      const next = mant * 10 + (c - D0);
      if (exact && next <= MAX_EXACT) {
        mant = next;
        exp10--;
      } else {
        exact = false;
      }
      p++;
    }
  }
  if (digits === 0) return decodeSpecial(buf, s, e, out);
  if (p < e && (buf[p] === 101 || buf[p] === 69) /* e E */) {
    p++;
    let eneg = false;
    if (p < e && (buf[p] === 45 || buf[p] === 43)) {
      eneg = buf[p] === 45;
      p++;
    }
    const es = p;
    let ev = 0;
    while (p < e) {
      c = buf[p];
      if (c < D0 || c > D9) break;
      if (ev < 100000) ev = ev * 10 + (c - D0);
      p++;
    }
    if (p === es) {
      out.status = ST_INVALID;
      return NaN;
    }
    exp10 += eneg ? -ev : ev;
  }
  if (p !== e) {
    out.status = ST_INVALID;
    return NaN;
  }
  out.status = ST_OK;
  let v: number;
  if (exact && mant === 0) v = 0;
  else if (exact && exp10 >= 0 && exp10 <= 22) v = mant * POW10[exp10];
  else if (exact && exp10 < 0 && exp10 >= -22) v = mant / POW10[-exp10];
  else {
    const n = Number(latin1(buf, s, e));
    // A literal too large for a double (1e999) overflows to ±Infinity: treat it exactly like 'inf'.
    if (!Number.isFinite(n)) out.status = ST_NONFINITE;
    return n;
  }
  return neg ? -v : v;
}

function decodeSpecial(buf: Uint8Array, s: number, e: number, out: DecodeResult): number {
  if (e - s > 9) {
    out.status = ST_INVALID;
    return NaN;
  }
  const t = lowerAscii(buf, s, e);
  if (t === 'nan') {
    out.status = ST_MISSING;
    return NaN;
  }
  const body = t[0] === '-' || t[0] === '+' ? t.slice(1) : t;
  if (body === 'inf' || body === 'infinity') {
    out.status = ST_NONFINITE;
    return t[0] === '-' ? -Infinity : Infinity;
  }
  out.status = ST_INVALID;
  return NaN;
}

function digitsAt(buf: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[p + i];
    if (c < D0 || c > D9) return -1;
    v = v * 10 + (c - D0);
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  if (m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0)) return 29;
  return MONTH_DAYS[m - 1];
}

/**
 * Decodes an ISO-like date-time from buf[s, e): 'YYYY-MM-DD', then optionally ' ' or 'T' and
 * 'HH:MM[:SS[.fraction]]', then optionally 'Z' or an offset '±HH[:MM]'/'±HHMM'. '/' is accepted
 * in place of '-' in the date. A naive date-time is UTC. Returns epoch milliseconds.
 * Values written as numbers are decoded as numbers with `out.epoch = true` (the caller decides
 * seconds or milliseconds for the column). Empty and 'nan' are Missing.
 */
export function decodeTime(buf: Uint8Array, s: number, e: number, out: DecodeResult): number {
  out.epoch = false;
  if (s >= e) {
    out.status = ST_MISSING;
    return NaN;
  }
  const len = e - s;
  const sep = buf[s + 4];
  if (len >= 10 && (sep === 45 || sep === 47) && buf[s + 7] === sep) {
    const y = digitsAt(buf, s, 4);
    const mo = digitsAt(buf, s + 5, 2);
    const d = digitsAt(buf, s + 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) {
      out.status = ST_INVALID;
      return NaN;
    }
    let ms = daysFromCivil(y, mo, d) * 86400000;
    let p = s + 10;
    if (p < e) {
      const t = buf[p];
      if (t !== 32 && t !== 84 && t !== 116 /* ' ' T t */) {
        out.status = ST_INVALID;
        return NaN;
      }
      p++;
      const hh = p + 2 <= e ? digitsAt(buf, p, 2) : -1;
      if (hh < 0 || hh > 23 || p + 5 > e || buf[p + 2] !== 58) {
        out.status = ST_INVALID;
        return NaN;
      }
      const mi = digitsAt(buf, p + 3, 2);
      if (mi < 0 || mi > 59) {
        out.status = ST_INVALID;
        return NaN;
      }
      p += 5;
      let sec = 0;
      if (p < e && buf[p] === 58) {
        sec = p + 3 <= e ? digitsAt(buf, p + 1, 2) : -1;
        if (sec < 0 || sec > 60) {
          out.status = ST_INVALID;
          return NaN;
        }
        p += 3;
        if (p < e && (buf[p] === 46 || buf[p] === 44) && p + 1 < e && buf[p + 1] >= D0 && buf[p + 1] <= D9) {
          p++;
          let frac = 0;
          let scale = 1;
          while (p < e && buf[p] >= D0 && buf[p] <= D9) {
            if (scale < 1e9) {
              frac = frac * 10 + (buf[p] - D0);
              scale *= 10;
            }
            p++;
          }
          ms += (frac * 1000) / scale;
        }
      }
      ms += hh * 3600000 + mi * 60000 + sec * 1000;
      if (p < e) {
        const z = buf[p];
        if ((z === 90 || z === 122) && p + 1 === e) {
          p++;
        } else if (z === 43 || z === 45) {
          const oh = p + 3 <= e ? digitsAt(buf, p + 1, 2) : -1;
          let q = p + 3;
          let om = 0;
          if (q < e && buf[q] === 58) q++;
          if (q < e) {
            om = q + 2 === e ? digitsAt(buf, q, 2) : -1;
            q += 2;
          }
          if (oh < 0 || oh > 23 || om < 0 || om > 59 || q !== e) {
            out.status = ST_INVALID;
            return NaN;
          }
          const off = (oh * 60 + om) * 60000;
          ms += z === 43 ? -off : off;
          p = e;
        }
      }
      if (p !== e) {
        out.status = ST_INVALID;
        return NaN;
      }
    }
    out.status = ST_OK;
    return ms;
  }
  const v = decodeNumber(buf, s, e, out);
  if (out.status === ST_OK) out.epoch = true;
  else if (out.status === ST_NONFINITE) {
    out.status = ST_INVALID;
    return NaN;
  }
  return v;
}
