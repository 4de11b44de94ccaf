/** incidents.bin: every flow behind each incident, written and read back as the IncidentsFile the incident CSV and filters use. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FlowFinding } from '../../src/findings/types.ts';
import { decodeIncidentsBin, encodeIncidentsBin, incidentReportChunks, parseIncidentsFile } from '../../src/reports/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'incident-file-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const CSV = ['src,dst,bytes', '10.0.0.1,8.8.8.8,100', '10.0.0.2,"9.9.9.9, x",200', '10.0.0.3,1.1.1.1,300', '10.0.0.4,2.2.2.2,400', ''].join('\n');

function input() {
  // Byte offsets of the data rows (and of the end of the last one).
  const lines = CSV.split('\n').slice(0, -1);
  const rowOffsets: number[] = [];
  for (let k = 0, at = 0; k < lines.length; at += Buffer.byteLength(lines[k]) + 1, k++) if (k > 0) rowOffsets.push(at);
  rowOffsets.push(Buffer.byteLength(CSV));
  const finding = (row: number, type: FlowFinding['type'], reason: string): FlowFinding => ({
    row,
    type,
    confidence: 0.9,
    reason,
    technique: null,
    incidentId: 'INC-001',
    source: 'both',
  });
  const flows = new Map<number, FlowFinding>([
    [0, finding(0, 'port_scan', 'probed 40 ports — «fast»')],
    [2, finding(2, 'port_scan', '')],
    [3, finding(3, 'beaconing', 'every 60 s')],
  ]);
  return {
    table: { header: ['src', 'dst', 'bytes'], rowOffsets: Float64Array.from(rowOffsets) },
    incidents: [
      { id: 'INC-001', rows: [2, 0, 1] },
      { id: 'INC-002', rows: [3] },
      { id: 'INC-003', rows: [] },
    ],
    scores: Float64Array.from([-0.61234567891, -0.5, -0.70000049, -0.55]),
    severity: Float64Array.from([70.125, 40, 80.995, 55]),
    isAnomaly: Uint8Array.from([1, 0, 1, 1]),
    flowFindings: flows,
    anomalyRank: (row: number) => [5, -1, 2, 9][row],
  };
}

describe('incidents.bin', () => {
  it('when written and read, then each incident has its flows in order, exact scores, types, reasons (none as -1) and sorted anomaly ranks', () => {
    const file = decodeIncidentsBin(Buffer.concat(encodeIncidentsBin(input())));
    assert.deepEqual(file.header, ['src', 'dst', 'bytes']);
    assert.deepEqual(file.types, ['port_scan', 'normal', 'beaconing']);
    assert.deepEqual(file.reasons, ['probed 40 ports — «fast»', 'every 60 s']);
    assert.deepEqual(file.incidents, [
      {
        id: 'INC-001',
        rows: [2, 0, 1],
        starts: [61, 14, 35],
        ends: [82, 35, 61],
        score: [-0.70000049, -0.61234567891, -0.5],
        severity: [80.995, 70.125, 40],
        anomaly: [1, 1, 0],
        type: [0, 0, 1],
        reason: [-1, 0, -1],
        anomalyRanks: [2, 5],
      },
      { id: 'INC-002', rows: [3], starts: [82], ends: [103], score: [-0.55], severity: [55], anomaly: [1], type: [2], reason: [1], anomalyRanks: [9] },
      { id: 'INC-003', rows: [], starts: [], ends: [], score: [], severity: [], anomaly: [], type: [], reason: [], anomalyRanks: [] },
    ]);
  });

  it('when an incident CSV is written from it, then it is the one the same data gives as incidents.json', async () => {
    const source = join(dir, 'input.csv');
    await writeFile(source, CSV);
    const bin = decodeIncidentsBin(Buffer.concat(encodeIncidentsBin(input())));
    // incidents.json kept scores to 6 and severities to 2 decimals: the CSV prints them so anyway.
    const json = parseIncidentsFile(
      JSON.stringify({
        ...bin,
        incidents: bin.incidents.map((e) => ({ ...e, score: e.score.map((v) => Number(v.toFixed(6))), severity: e.severity.map((v) => Number(v.toFixed(2))) })),
      }),
    );
    const text = async (file: typeof bin) => {
      let out = '';
      for await (const piece of incidentReportChunks(source, file, file.incidents[0])) out += piece;
      return out;
    };
    const csv = await text(bin);
    assert.equal(csv, await text(json));
    assert.equal(
      csv,
      [
        'src,dst,bytes,anomaly_score,severity,is_anomaly,attack_type,incident_id,reason',
        '10.0.0.3,1.1.1.1,300,-0.700000,81.00,1,port_scan,INC-001,',
        '10.0.0.1,8.8.8.8,100,-0.612346,70.13,1,port_scan,INC-001,probed 40 ports — «fast»',
        '10.0.0.2,"9.9.9.9, x",200,-0.500000,40.00,0,normal,INC-001,',
        '',
      ].join('\n'),
    );
  });

  it('when the bytes sit at an odd offset in their memory (a pooled buffer), then they read the same', () => {
    const bytes = Buffer.concat(encodeIncidentsBin(input()));
    const odd = Buffer.alloc(bytes.length + 3);
    bytes.copy(odd, 3);
    assert.deepEqual(decodeIncidentsBin(odd.subarray(3)), decodeIncidentsBin(bytes));
  });

  it('when the bytes are not an incidents.bin, then reading throws', () => {
    assert.throws(() => decodeIncidentsBin(Buffer.from('{"version":1}')), /Not a incidents.bin file/);
  });
});
