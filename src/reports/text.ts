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
  return Number.isInteger(v) ? INTEGER.format(v) : DECIMAL.format(v);
}

function formatShare(p: number): string {
  const c = Math.min(100, Math.max(0, p));
  if (c > 99.9) return 'more than 99.9%';
  if (c > 0 && c < 0.1) return 'less than 0.1%';
  return `${Number(c.toFixed(1))}%`;
}

function formatRatio(r: number): string {
  return r >= 100 ? INTEGER.format(r) : String(Number(r.toPrecision(2)));
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
