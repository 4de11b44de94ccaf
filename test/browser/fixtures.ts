/**
 * Page locals with realistic sample data, for rendering the views without the back end (the
 * preview server and the page tests). Shapes follow src/analysis/types.ts and the web contract.
 */
import type { AnalysisIncident, AnalysisSummary, AnomalyRow, ChartPoints, IncidentFlow } from '../../src/analysis/types.ts';
import type { TimeAnalysis } from '../../src/findings/types.ts';
import { mulberry32, useLogScale } from '../../src/charts/index.ts';
import { fmtSize } from '../../src/findings/index.ts';

export const SAMPLE_ID = '20240115_083000_abc123';
const START = Date.UTC(2024, 0, 15, 0, 0, 0);
const HOUR = 3_600_000;

/** Evidence flows of a sample incident, most severe first (every third found by behaviour only). */
export function sampleFlows(n: number, flow: (k: number) => Partial<IncidentFlow>): IncidentFlow[] {
  return Array.from({ length: n }, (_, k) => ({
    row: 10 + k * 7,
    line: 12 + k * 7,
    timestamp: new Date(START + 5 * HOUR + k * 41_000).toISOString().replace('T', ' ').slice(0, 19),
    sourceIp: '203.0.113.45',
    sourcePort: 51_000 + k,
    destinationIp: '10.0.0.12',
    destinationPort: 22,
    protocol: 'TCP',
    bytes: 60,
    packets: 1,
    duration: 0.001,
    score: -0.71 + k * 0.01,
    severity: 96 - k * 1.5,
    detector: k % 3 !== 2,
    reason: k % 3 === 2 ? 'One of 412 ports 203.0.113.45 probed on 10.0.0.12 within 18 minutes (baseline 3).' : 'SYN probe without payload to a closed port: 1 packet, 60 bytes; part of a 412-port sweep from 203.0.113.45.',
    ...flow(k),
  }));
}

const SCAN_PORTS = [22, 23, 80, 443, 445, 3389, 5900, 8080, 3306, 21];

export function sampleIncidents(): AnalysisIncident[] {
  return [
    {
      id: 'INC-001',
      type: 'port_scan',
      title: 'Port scan from 203.0.113.45 against 10.0.0.12 (412 ports)',
      technique: 'T1046',
      confidence: 0.93,
      severity: 91,
      firstSeen: START + 5 * HOUR,
      lastSeen: START + 5 * HOUR + 18 * 60_000,
      flowCount: 412,
      bytes: 98_112,
      sourceIps: ['203.0.113.45'],
      destinationIps: ['10.0.0.12'],
      destinationPorts: [21, 22, 23, 25, 53, 80, 110, 135, 139, 143, 443, 445, 3306, 3389, 5432, 5900, 8080, 8443],
      protocols: ['TCP'],
      rows: [10, 11, 12],
      flows: sampleFlows(10, (k) => ({ destinationPort: SCAN_PORTS[k] })),
      evidence: [
        '203.0.113.45 contacted 412 distinct ports on 10.0.0.12 within 18 minutes.',
        '97% of these flows carried fewer than 3 packets (SYN probes without payload).',
      ],
      mitigation: {
        summary: 'Block 203.0.113.45 at the perimeter for 24 hours and check 10.0.0.12 for exposed services.',
        steps: ['Add the temporary block below on the edge firewall.', 'List services listening on 10.0.0.12 and close what is not needed.', 'Watch for the same source in the next 24 hours.'],
        nftables: 'nft add rule inet filter input ip saddr 203.0.113.45 drop comment "FlowSentry INC-001" # expires 24h',
        iptables: 'iptables -I INPUT -s 203.0.113.45 -j DROP -m comment --comment "FlowSentry INC-001"',
        undo: ['nft delete rule inet filter input handle <handle>', 'iptables -D INPUT -s 203.0.113.45 -j DROP -m comment --comment "FlowSentry INC-001"'],
        verify: ['nft list ruleset | grep INC-001', 'tcpdump -n src 203.0.113.45'],
        attack: ['T1046'],
        d3fend: ['D3-ITF', 'D3-NTA'],
        generic: false,
      },
    },
    {
      id: 'INC-002',
      type: 'data_exfiltration',
      title: 'Large outbound transfer from 10.0.0.31 to 198.51.100.7',
      technique: 'T1048',
      confidence: 0.71,
      severity: 74,
      firstSeen: START + 14 * HOUR,
      lastSeen: START + 15 * HOUR,
      flowCount: 9,
      bytes: 4_812_331_221,
      sourceIps: ['10.0.0.31'],
      destinationIps: ['198.51.100.7'],
      destinationPorts: [443],
      protocols: ['TCP'],
      rows: [40, 41],
      flows: sampleFlows(9, (k) => ({
        row: 40 + k,
        line: 42 + k,
        sourceIp: '10.0.0.31',
        sourcePort: 49_152 + k,
        destinationIp: '198.51.100.7',
        destinationPort: 443,
        bytes: 540_000_000 - k * 1_000_000,
        packets: 380_000 - k * 1000,
        duration: 1800 - k * 10,
        severity: 74 - k,
        detector: k < 6,
        reason: k < 6 ? 'bytes_transferred 540 MB vs median 4.1 KB (p>99.9); outbound to a new destination.' : 'Outbound volume to 198.51.100.7 far above the host\'s daily baseline.',
      })),
      evidence: ['10.0.0.31 sent 4.5 GB to 198.51.100.7 in 9 flows, 300× its usual daily volume.'],
      mitigation: {
        summary: 'Confirm with the owner of 10.0.0.31 whether this upload is expected.',
        steps: ['Identify the process behind the transfer.', 'If unexpected, isolate the host.'],
        nftables: null,
        iptables: null,
        undo: [],
        verify: ['Check proxy logs for 198.51.100.7'],
        attack: ['T1048'],
        d3fend: ['D3-OTF'],
        generic: true,
      },
    },
  ];
}

export function sampleTime(available = true): TimeAnalysis {
  if (!available) {
    return { available: false, bucketMs: 0, buckets: [], byHourOfDay: [], byDay: [], bursts: [], periodic: [], peakHours: [] };
  }
  const r = mulberry32(5);
  const buckets = Array.from({ length: 96 }, (_, k) => ({
    start: START + k * 15 * 60_000,
    flows: Math.round(120 + 60 * Math.sin(k / 10) + 20 * r()) + (k >= 20 && k <= 21 ? 420 : 0),
    anomalies: k >= 20 && k <= 21 ? 200 : Math.round(r() * 4),
  }));
  return {
    available: true,
    bucketMs: 15 * 60_000,
    buckets,
    byHourOfDay: Array.from({ length: 24 }, (_, hour) => ({ hour, flows: 100, anomalies: hour === 5 ? 400 : 2 })),
    byDay: [{ day: '2024-01-15', flows: 12_000, anomalies: 600 }],
    bursts: [{ start: START + 5 * HOUR, end: START + 5.5 * HOUR, flows: 840, anomalies: 400, rate: 28, baselineRate: 2 }],
    periodic: [],
    peakHours: [5],
  };
}

export function sampleAnomalies(n: number): AnomalyRow[] {
  const r = mulberry32(9);
  const types = ['port_scan', 'ddos', 'data_exfiltration', 'brute_force', 'beaconing', 'protocol_misuse', 'untyped'] as const;
  return Array.from({ length: n }, (_, k) => {
    const type = types[k % types.length];
    const severity = 99 - (k * 49) / Math.max(1, n);
    return {
      row: 1000 + k,
      line: 1002 + k,
      score: -0.5 - severity / 400,
      severity,
      values: {
        timestamp: new Date(START + k * 60_000).toISOString(),
        source_ip: `203.0.113.${(k % 200) + 1}`,
        source_port: 40000 + k,
        destination_ip: '10.0.0.12',
        destination_port: [22, 80, 443, 3389][k % 4],
        protocol: 'TCP',
        bytes_transferred: Math.round(1e6 * r()),
        packet_count: Math.round(1000 * r()),
      },
      explanation: [
        { feature: 'bytes_transferred', value: 1.23e6 + k, median: 4100, percentile: 99.9, direction: 'high', weight: 0.52 },
        { feature: 'packets_per_second', value: 0.02, median: 3.1, percentile: 0.4, direction: 'low', weight: 0.31 },
        { feature: 'connection_duration', value: 812.5, median: 2.4, percentile: 99.2, direction: 'high', weight: 0.17 },
      ],
      type,
      confidence: 0.8,
      reason: type === 'untyped' ? 'Unusual combination of volume and rate.' : `Matches the ${type.replace('_', ' ')} pattern.`,
      technique: type === 'untyped' ? null : 'T1046',
      incidentId: k < 3 ? 'INC-001' : null,
      recommendation: 'Review the flow.',
    };
  });
}

export function sampleSummary(opts: { timeAvailable?: boolean; incidents?: boolean; anomalies?: number } = {}): AnalysisSummary {
  const timeAvailable = opts.timeAvailable ?? true;
  const incidents = opts.incidents === false ? [] : sampleIncidents();
  const anomalyCount = opts.anomalies ?? 613;
  return {
    id: SAMPLE_ID,
    createdAt: '2024-01-15T08:30:00.000Z',
    fileName: 'edge-router-flows-2024-01-15.csv',
    fileBytes: 2_412_331,
    durationMs: 1840,
    parameters: { features: ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second', 'retransmission_rate'], contamination: 0.05, nEstimators: 100, randomState: 42 },
    statistics: { total_records: 12_260, anomaly_count: anomalyCount, anomaly_percentage: (anomalyCount / 12_260) * 100 },
    offset: -0.5213,
    warnings: timeAvailable ? ['3 rows had a missing packet_count; the column mean was used.'] : ['No timestamp column: time patterns were skipped.'],
    featureStats: ['bytes_transferred', 'packet_count', 'connection_duration'].map((name, k) => ({
      name,
      mean: 1000 * (k + 1),
      std: 10,
      min: 0,
      max: 1e6 * (k + 1),
      median: 400 * (k + 1),
      quantiles: [],
      imputed: k === 1 ? 3 : 0,
    })),
    topAnomalies: sampleAnomalies(5),
    incidents,
    time: sampleTime(timeAvailable),
    recommendations: [
      { type: 'PORT_SCAN', description: 'Port scanning detected from 1 source.', severity: 'HIGH', recommendations: ['Block the scanning address at the firewall.', 'Enable port-scan detection on the IDS.'] },
      { type: 'GENERAL', description: 'Review unusual flows.', severity: 'LOW', recommendations: ['Baseline normal traffic per host.'] },
    ],
    timings: { parse: 310, fit: 420, explain: 200, findings: 150, charts: 380, reports: 240, write: 90 },
    behaviourOnly: 12,
    charts: { scatter: { x: 'bytes_transferred', y: 'packet_count', normalShown: 5000, normalTotal: 11_647 }, distribution: { bins: 50 }, timeline: { available: timeAvailable } },
  };
}

export function samplePoints(): ChartPoints {
  const r = mulberry32(3);
  const points: [number, number, number, number, number][] = [];
  for (let i = 0; i < 3000; i++) {
    const anom = i % 20 === 0 ? 1 : 0;
    points.push([Math.exp((anom ? 12 : 7) + 2 * (r() - 0.5)), Math.exp((anom ? 6 : 3) + (r() - 0.5)), anom, i, anom ? 60 + 40 * r() : 40 * r()]);
  }
  // The axes' scales as the server stores them with the points (the image and the page both use them).
  const logX = useLogScale(points.map((p) => p[0]));
  const logY = useLogScale(points.map((p) => p[1]));
  return { x: 'bytes_transferred', y: 'packet_count', points, normalShown: 2850, normalTotal: 11_647, logX, logY };
}

export function analysisLocals(opts: { timeAvailable?: boolean; incidents?: boolean; page?: number; size?: number; total?: number; incident?: string } = {}) {
  const count = opts.total ?? 613;
  const size = opts.size ?? 25;
  const all = sampleAnomalies(count).filter((a) => opts.incident === undefined || a.incidentId === opts.incident);
  const total = all.length;
  const pageCount = Math.max(1, Math.ceil(total / size));
  const page = Math.min(Math.max(1, opts.page ?? 1), pageCount);
  const base = `/analysis/${SAMPLE_ID}`;
  return {
    title: 'Analysis edge-router-flows-2024-01-15.csv',
    currentPath: base,
    summary: sampleSummary({ timeAvailable: opts.timeAvailable, incidents: opts.incidents, anomalies: count }),
    anomalies: all.slice((page - 1) * size, page * size),
    page,
    pageCount,
    pageSize: size,
    totalAnomalies: total,
    incidentFilter: opts.incident ?? null,
    fmtSize, // as the real route gives it (src/web/pages/routes.ts)
    links: {
      self: base,
      scatter: `/visualization/${SAMPLE_ID}/scatter`,
      distribution: `/visualization/${SAMPLE_ID}/distribution`,
      timeline: `/visualization/${SAMPLE_ID}/timeline`,
      report: `/download/${SAMPLE_ID}`,
      results: `/download/${SAMPLE_ID}/results`,
      summaryJson: `/download/${SAMPLE_ID}/summary`,
      points: `${base}/points.json`,
      model: `/download/${SAMPLE_ID}/model`,
      incidentFlows: `/download/${SAMPLE_ID}/incident`,
    },
  };
}

export function recentList(n: number) {
  return Array.from({ length: n }, (_, k) => ({
    id: `2024011${k}_083000_abc12${k}`,
    createdAt: new Date(Date.UTC(2024, 0, 15 - k, 8, 30)).toISOString(),
    fileName: k === 0 ? 'edge-router-flows-2024-01-15.csv' : `capture-${k}.csv`,
    total_records: 12_260 * (k + 1),
    anomaly_count: 613 * (k + 1),
    anomaly_percentage: 5,
    incidents: k % 3,
  }));
}
