/**
 * How findings write numbers in their texts: sizes, durations, counts with their noun, and values
 * with three significant digits (thousands grouped from 100 up). One place, so that a reason, an
 * evidence sentence and a verdict say the same value the same way.
 */

/** A size in decimal units with three significant digits (35.5 MB, 182 MB, 11.5 GB), as every finding writes sizes. */
export const fmtSize = (b: number): string => {
  const a = Math.abs(b);
  const [d, u] = a >= 1e9 ? [1e9, 'GB'] : a >= 1e6 ? [1e6, 'MB'] : a >= 1e3 ? [1e3, 'kB'] : [1, 'B'];
  return d === 1 ? `${Math.round(b)} B` : `${Number((b / d).toPrecision(3))} ${u}`;
};

export const fmt = (x: number): string =>
  !Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? groupThousands(Math.round(x)) : shortPrecision3(x);

/**
 * String(Number(x.toPrecision(3))) for finite x, without the round trip through a number: the
 * three digits minus trailing zeros (a number's shortest text, in the same plain or exponent form).
 */
export function shortPrecision3(x: number): string {
  const a = Math.abs(x);
  if (a >= 1 && a < 100) {
    const text = threeDigits(x);
    if (text !== null) return text;
  }
  // Subnormal numbers have fewer digits than three can say: there the round trip decides.
  if (a < 1e-290) return String(Number(x.toPrecision(3)));
  const p = x.toPrecision(3);
  const e = p.indexOf('e');
  const mantissa = e < 0 ? p : p.slice(0, e);
  if (mantissa.indexOf('.') < 0) return p;
  let end = mantissa.length;
  while (mantissa.charCodeAt(end - 1) === 48) end--; // '0'
  if (mantissa.charCodeAt(end - 1) === 46) end--; // '.'
  const m = end === mantissa.length ? mantissa : mantissa.slice(0, end);
  return m === '-0' ? '0' : e < 0 ? m : m + p.slice(e);
}

/**
 * shortPrecision3 of x for 1 <= |x| < 100 by arithmetic (percentiles, seconds, small counts): the
 * three digits as an integer, rounded to nearest; null within float error of a tie, where
 * toPrecision's exact decimal must decide.
 */
function threeDigits(x: number): string | null {
  const a = Math.abs(x);
  const scale = a < 10 ? 100 : 10;
  const f = a * scale;
  const whole = Math.floor(f);
  const d = f - whole;
  if (Math.abs(d - 0.5) <= 1e-6) return null;
  const digits = d > 0.5 ? whole + 1 : whole; // 100 .. 1000
  const int = Math.floor(digits / scale);
  const frac = digits - int * scale; // the decimals, trailing zeros dropped below
  let text = String(int);
  if (scale === 10) {
    if (frac !== 0) text += `.${frac}`;
  } else if (frac !== 0) text += frac % 10 === 0 ? `.${frac / 10}` : frac < 10 ? `.0${frac}` : `.${frac}`;
  return x < 0 ? `-${text}` : text;
}

/** An integer as toLocaleString('en-US') writes it ("1,234,567"), without Intl's cost per call. */
export function groupThousands(v: number): string {
  if (!(Math.abs(v) < 1e21) || !Number.isInteger(v)) return v.toLocaleString('en-US');
  const digits = String(Math.abs(v));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let k = out.length; k < digits.length; k += 3) out += ',' + digits.slice(k, k + 3);
  return v < 0 || Object.is(v, -0) ? '-' + out : out;
}

/** A duration in seconds as the texts say it: whole seconds below 90 s, minutes below 90 min, else hours to one decimal. */
export const fmtDuration = (sec: number): string =>
  sec < 90 ? `${Math.round(sec)} s` : sec < 5400 ? `${Math.round(sec / 60)} min` : `${(sec / 3600).toFixed(1)} h`;

/** "1 flow", "2 flows". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
