/**
 * The timeline's incident lanes: one placement, public/js/lanes.js, for the server's image and the
 * analysis page's interactive chart (the browser test checks the page draws what it gives).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { incidentLanes, type TimelineIncident } from '../../src/charts/index.ts';
import { PROJECT_ROOT } from '../helpers/paths.ts';

const MIN = 60_000;
const inc = (id: string, firstSeen: number | null, lastSeen: number | null, severity: number): TimelineIncident => ({ id, firstSeen, lastSeen, severity });
const placed = (lanes: ReturnType<typeof incidentLanes>) => lanes.map((l) => `${l.id}@${l.lane}`);

describe('incident lanes', () => {
  it('when the server places lanes, then it uses the module the analysis page imports', async () => {
    const browser = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'public', 'js', 'lanes.js')).href)) as { incidentLanes: unknown };
    assert.equal(incidentLanes, browser.incidentLanes);
  });

  it('when incidents overlap or come closer than the gap, then the less severe moves to the next lane', () => {
    const incidents = [
      inc('INC-003', 100 * MIN, 130 * MIN, 60), // clear of INC-001 by more than the gap: lane 0
      inc('INC-001', 0, 30 * MIN, 90),
      inc('INC-002', 20 * MIN, 40 * MIN, 80), // overlaps INC-001
      inc('INC-004', 35 * MIN, 50 * MIN, 50), // clear of INC-001 (5 min) but not by the 10-minute gap; overlaps INC-002
    ];
    const lanes = incidentLanes(incidents, 6, 10 * MIN);
    assert.deepEqual(placed(lanes), ['INC-001@0', 'INC-002@1', 'INC-003@0', 'INC-004@2']);
    assert.deepEqual(lanes[0], { id: 'INC-001', start: 0, end: 30 * MIN, severity: 90, lane: 0 });
    assert.deepEqual(placed(incidentLanes(incidents, 6, 2 * MIN)), ['INC-001@0', 'INC-002@1', 'INC-003@0', 'INC-004@0']);
  });

  it('when the lanes are full, then less severe incidents that fit none are left out, and untimed ones always', () => {
    const incidents = [inc('INC-001', 0, 10 * MIN, 90), inc('INC-002', 5 * MIN, 15 * MIN, 80), inc('INC-003', 8 * MIN, 9 * MIN, 70), inc('INC-004', 60 * MIN, 61 * MIN, 60), inc('INC-005', null, null, 99)];
    assert.deepEqual(placed(incidentLanes(incidents, 2, 0)), ['INC-001@0', 'INC-002@1', 'INC-004@0']);
  });

  it('when severities tie, then ids decide by code unit, and an end before the start counts as the start', () => {
    const lanes = incidentLanes([inc('INC-b', 0, MIN, 50), inc('INC-B', 0, MIN, 50), inc('INC-a', 0, -MIN, 50)], 6, 0);
    assert.deepEqual(placed(lanes), ['INC-B@0', 'INC-a@1', 'INC-b@2']);
    assert.equal(lanes[1].end, 0);
  });
});
