import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Incident } from '../../src/findings/types.ts';
import { closeScorePool } from '../../src/detection/index.ts';
import { runQuality } from '../../scripts/findings-quality.ts';

after(() => closeScorePool());

/** A sentence with its numbers blanked: two sentences that differ only in numbers share it. */
const shape = (s: string): string => s.replace(/\d[\d,.]*/g, '#');

function assertAnalystNote(inc: Incident): void {
  const note = `${inc.id} ${inc.title}:\n  ${inc.evidence.join('\n  ')}`;
  assert.equal(new Set(inc.evidence).size, inc.evidence.length, `duplicate sentence in ${note}`);
  assert.equal(new Set(inc.evidence.map(shape)).size, inc.evidence.length, `sentences that differ only in numbers in ${note}`);
  assert.ok(inc.evidence.length >= 2 && inc.evidence.length <= 6, note);
}

test('when the generated sample of the analysis page is analysed, then no incident repeats an evidence sentence, even with other numbers', async () => {
  // The data of `npm run generate -- --start 2024-03-01T00:00:00Z --hours 6 --seed 7` (3,000 flows), default detector settings.
  const run = await runQuality({ seed: 7, rows: 3000, hours: 6, share: 0.05, contamination: 0.05, start: '2024-03-01T00:00:00Z', randomState: 42 });
  assert.ok(run.findings.incidents.length >= 5);
  for (const inc of run.findings.incidents) assertAnalystNote(inc);

  // The exfiltration: one sentence each for the window, the behaviour, the per-flow ranges and the detector.
  const exfil = run.findings.incidents.find((i) => i.type === 'data_exfiltration');
  assert.ok(exfil);
  assert.equal(exfil.flowCount, 30);
  const [window, behaviour, perFlow, detector, ...rest] = exfil.evidence;
  assert.deepEqual(rest, []);
  assert.match(window, /^30 flows \([\d.]+ GB\) from 2024-03-01T\S+Z to 2024-03-01T\S+Z \(\d+ min\): 10\.0\.1\.101 → 52\.159\.172\.99\.$/);
  assert.match(behaviour, /^10\.0\.1\.101 sent 30 large flows \([\d.]+ [kMG]B, each above the 95th percentile of [\d,]+ bytes\) to 52\.159\.172\.99: 100 % of this pair's flows vs about 5 % usually\.$/);
  assert.match(
    perFlow,
    /^Bulk transfer out, per flow: bytes_transferred [\d.]+ MB–[\d.]+ MB, all above the 99th percentile \([\d.]+ MB\); connection_duration [\d.]+ s–[\d.]+ s, all above the 90th percentile \([\d.]+ s\); .*all from an internal host to an external address\.$/,
  );
  assert.match(detector, /^30 of 30 flows flagged by the Isolation Forest \(highest severity \d+\), most often for \w+ high \(\d+ of them\)\.$/);
  // Every size is written one way: decimal units, three significant digits (the window and the behaviour say the same total).
  const sizes = exfil.evidence.join(' ').match(/[\d.]+ [kMG]B/g) ?? [];
  assert.ok(sizes.length >= 4);
  for (const size of sizes) assert.ok(size.replace(/\D/g, '').replace(/^0+/, '').length <= 3, `${size}: three significant digits`);
  assert.equal(/\(([\d.]+ [kMG]B)\)/.exec(window)?.[1], /\(([\d.]+ [kMG]B),/.exec(behaviour)?.[1]);
  // The behaviour sentence appears once, not once per example flow.
  assert.equal(exfil.evidence.filter((e) => e.includes('sent 30 large flows')).length, 1);
});

test('when the real detector runs on a day of generated attacks, then every incident reads as one sentence per kind of evidence', async () => {
  for (const seed of [1, 3]) {
    const run = await runQuality({ seed, rows: 12000, hours: 24, share: 0.05 });
    for (const inc of run.findings.incidents) assertAnalystNote(inc);
    const flood = run.findings.incidents.find((i) => i.type === 'ddos');
    assert.ok(flood);
    // Per-flow conditions come as ranges over the flows, each condition once.
    const perFlow = flood.evidence.filter((e) => e.startsWith('Volumetric flood'));
    assert.equal(perFlow.length, 1, flood.evidence.join('\n'));
    assert.match(perFlow[0], /packet_count [\d,]+–[\d,]+, all above the 95th percentile \([\d,]+\)/);
    assert.equal(perFlow[0].split('packet_count').length, 2);
  }
});
