/**
 * Human text for explanations, shared by the reports and the web pages.
 */
import type { Explanation, FeatureContribution } from '../detection/types.ts';
import type { AttackType } from '../findings/types.ts';

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

/** formatValue's answers: reports format the same medians and values over and over, and Intl is slow. */
const formatted = new Map<number, string>();
const FORMAT_CACHE_SIZE = 50_000;

/** 1234567 → '1,234,567'; 0.0001234 → '0.0001234'; 1.23e21 → '1.23e+21'. */
export function formatValue(v: number): string {
  let text = formatted.get(v);
  if (text === undefined) {
    text = formatUncached(v);
    if (formatted.size >= FORMAT_CACHE_SIZE) formatted.clear();
    formatted.set(v, text);
  }
  return text;
}

function formatUncached(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'missing' : String(v);
  const a = Math.abs(v);
  if (a >= 1e15 || (a > 0 && a < 1e-6)) return v.toPrecision(3);
  return Number.isInteger(v) ? groupedInteger(v) : groupedDecimal(v);
}

/** Commas every three digits of a run of digits: '1234567' → '1,234,567'. */
function groupDigits(digits: string): string {
  const n = digits.length;
  if (n <= 3) return digits;
  let out = digits.slice(0, ((n - 1) % 3) + 1);
  for (let i = out.length; i < n; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return out;
}

/** INTEGER.format(v) for an integer below 1e15 in magnitude (Intl is slow; this is its en-US output). */
function groupedInteger(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return v < 0 ? `-${groupDigits(String(-v))}` : groupDigits(String(v));
}

/**
 * DECIMAL.format(v) (at most 4 significant digits, en-US) for a non-integer with 1e-6 <= |v| < 1e15.
 * Intl rounds the shortest decimal that reads back as v (what String(v) prints), half away from
 * zero; so does this, on String(v)'s digits.
 */
function groupedDecimal(v: number): string {
  const text = String(v < 0 ? -v : v); // plain 'int.frac' in this range
  const dot = text.indexOf('.');
  let point = dot < 0 ? text.length : dot; // digits before the decimal point
  let digits = dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1);
  let first = 0;
  while (first < digits.length - 1 && digits.charCodeAt(first) === 48 /* '0' */) first++;
  const end = first + 4;
  if (digits.length > end) {
    const d = digits.slice(0, end).split('');
    if (digits.charCodeAt(end) >= 53 /* '5': half away from zero */) {
      let i = end - 1;
      for (; i >= 0 && d[i] === '9'; i--) d[i] = '0';
      if (i >= 0) d[i] = String.fromCharCode(d[i].charCodeAt(0) + 1);
      else {
        d.unshift('1'); // 9999.5 → 10000: one more digit before the point
        point++;
      }
    }
    digits = d.join('');
  }
  if (digits.length < point) digits = digits.padEnd(point, '0');
  const int = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const frac = digits.slice(point).replace(/0+$/, '');
  const body = frac === '' ? groupDigits(int) : `${groupDigits(int)}.${frac}`;
  return v < 0 ? `-${body}` : body;
}

function formatShare(p: number): string {
  const c = Math.min(100, Math.max(0, p));
  if (c > 99.9) return 'more than 99.9%';
  if (c > 0 && c < 0.1) return 'less than 0.1%';
  return `${Number(c.toFixed(1))}%`;
}

function formatRatio(r: number): string {
  if (r >= 100) return r < 1e15 ? groupedInteger(Math.round(r)) : INTEGER.format(r);
  return String(Number(r.toPrecision(2)));
}

/** One feature's clause: 'bytes_transferred is 1,234,567, 52x the typical 23,456 (median), higher than 99.8% of flows'. */
export function contributionClause(c: FeatureContribution): string {
  const value = formatValue(c.value);
  const median = formatValue(c.median);
  if (c.direction === 'high') {
    const ratio = c.median > 0 && c.value / c.median >= 1.5 ? `${formatRatio(c.value / c.median)}x` : 'above';
    return `${c.feature} is ${value}, ${ratio} the typical ${median} (median), higher than ${formatShare(c.percentile)} of flows`;
  }
  const ratio = c.value > 0 && c.median / c.value >= 1.5 ? `${formatRatio(c.median / c.value)}x below` : 'below';
  return `${c.feature} is ${value}, ${ratio} the typical ${median} (median), lower than ${formatShare(100 - c.percentile)} of flows`;
}

/**
 * Why a row is unusual, in one sentence: the main features (up to three, each with at least 15 % of
 * the weight, always at least one) against the training median and percentile.
 */
export function explanationSentence(e: Explanation): string {
  const cs = e.contributions.filter((c, i) => i === 0 || (i < 3 && c.weight >= 0.15));
  if (cs.length === 0) return 'No single feature stands out: the combination of values is unusual.';
  // Not capitalised: the sentence starts with a column name, which is shown as written.
  return `${cs.map(contributionClause).join('; ')}.`;
}

/** 'bytes_transferred (high, 62%); packet_count (low, 21%)': the top three features by weight. */
export function topFeaturesText(e: Explanation, count = 3): string {
  return e.contributions
    .slice(0, count)
    .map((c) => `${c.feature} (${c.direction}, ${Math.round(c.weight * 100)}%)`)
    .join('; ');
}

/** First advice for a flow of this type, when the caller has no mitigation of its own. */
export const DEFAULT_RECOMMENDATIONS: Readonly<Record<AttackType, string>> = {
  ddos: 'Rate-limit or block the source at the network edge, check the target service is still answering, and ask the upstream provider for filtering if the flood continues.',
  port_scan: 'Block the scanning source at the firewall and check which of the probed ports answered; close services that need not be reachable.',
  brute_force: 'Block or throttle the source, read the target service\'s authentication log for successful logins, and enforce account lockout or key-based login.',
  data_exfiltration: 'Find out what the internal host sent and to whom; isolate the host if the transfer was not expected and rotate credentials it held.',
  beaconing: 'Examine the internal host for malware calling home at a regular interval; block the destination if it is not a known service.',
  protocol_misuse: 'Check that this protocol and port belong to an approved service; block the flow if not.',
  untyped: 'Review this flow against the host\'s usual traffic; block the peer if the connection is not expected.',
};
