// Incident lanes of the timeline, one placement for both drawings of it: the server's image
// (src/charts/render.ts imports this file) and the analysis page's interactive chart (analysis.js).
// A plain ES module that uses no browser or Node globals, served as it is: no build step.

/**
 * Places incidents on non-overlapping lanes, like a Gantt strip: most severe first (equal
 * severities by id, compared by code unit so that every browser and the server agree), each on the
 * first lane where it keeps `minGap` (ms) from the others, a new lane when none has room, at most
 * `maxLanes` lanes. Incidents without both times, and those that fit no lane, are left out.
 *
 * @param {ReadonlyArray<{ id: string, firstSeen: number | null, lastSeen: number | null, severity: number }>} incidents
 * @param {number} maxLanes
 * @param {number} minGap
 * @returns {{ id: string, start: number, end: number, severity: number, lane: number }[]}
 */
export function incidentLanes(incidents, maxLanes, minGap) {
  const lanes = [];
  const out = [];
  const timed = incidents
    .filter((i) => i.firstSeen !== null && i.lastSeen !== null)
    .sort((a, b) => b.severity - a.severity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const inc of timed) {
    const start = inc.firstSeen;
    const end = Math.max(inc.lastSeen, start);
    let lane = lanes.findIndex((taken) => taken.every((t) => end + minGap < t.start || start > t.end + minGap));
    if (lane < 0 && lanes.length < maxLanes) {
      lanes.push([]);
      lane = lanes.length - 1;
    }
    if (lane < 0) continue;
    lanes[lane].push({ start, end });
    out.push({ id: inc.id, start, end, severity: inc.severity, lane });
  }
  return out;
}
