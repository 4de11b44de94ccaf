// Analysis page: interactive Chart.js scatter (fetched points) and timeline (data-* attribute).
// An ES module: the incident lanes come from lanes.js, which places them for the server's image too.
import { incidentLanes } from './lanes.js';

(function () {
  const Chart = window.Chart;
  if (!Chart) return;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  Chart.defaults.color = '#495057';
  const NORMAL = 'rgba(31,119,180,0.45)';
  const ANOMALY = 'rgba(214,39,40,0.85)';
  const MIN = 60000;
  const STEPS = [MIN, 5 * MIN, 15 * MIN, 30 * MIN, 60 * MIN, 120 * MIN, 180 * MIN, 360 * MIN, 720 * MIN, 1440 * MIN, 2880 * MIN, 10080 * MIN];

  const fmt = (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) return v.toExponential(2);
    return Number(v.toPrecision(5)).toLocaleString('en-US');
  };
  const short = (v) => {
    const a = Math.abs(v);
    if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
    if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
    if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
    return `${+Number(v).toPrecision(3)}`;
  };

  // ---- Scatter ----
  const scatterCanvas = document.getElementById('scatter-chart');
  if (scatterCanvas) {
    const url = scatterCanvas.getAttribute('data-points-url');
    const note = document.getElementById('scatter-note');
    fetch(url, { headers: { Accept: 'application/json' } })
      .then((res) => {
        if (!res.ok) throw new Error(`points answered ${res.status}`);
        return res.json();
      })
      .then((data) => drawScatter(scatterCanvas, data))
      .catch((err) => {
        if (note) note.textContent = `The interactive chart could not be loaded (${err.message}). The image tab shows the same data.`;
        scatterCanvas.closest('.fs-chart-box')?.classList.add('d-none');
      });
  }

  /** "Anomalies (50,000)", or "Anomalies (200,000 most severe of 260,000)" when not all are drawn. */
  function anomalyLabel(shown, total) {
    const n = (v) => v.toLocaleString('en-US');
    return typeof total === 'number' && total > shown ? `Anomalies (${n(shown)} most severe of ${n(total)})` : `Anomalies (${n(shown)})`;
  }

  function drawScatter(canvas, data) {
    const pts = Array.isArray(data.points) ? data.points : [];
    // The axes the server chose over every value of the two columns (points.json has always said),
    // so this chart and the scatter image use the same scales.
    const logX = data.logX === true;
    const logY = data.logY === true;
    const floor = (vals) => vals.reduce((m, v) => (v > 0 && v < m ? v : m), Infinity) / 2;
    const fx = floor(pts.map((p) => p[0]));
    const fy = floor(pts.map((p) => p[1]));
    const normal = [];
    const anomalous = [];
    for (const p of pts) {
      const point = { x: logX && !(p[0] > 0) ? fx : p[0], y: logY && !(p[1] > 0) ? fy : p[1], raw: p };
      (p[2] === 1 ? anomalous : normal).push(point);
    }
    const axis = (title, log) => ({
      type: log ? 'logarithmic' : 'linear',
      title: { display: true, text: log ? `${title} (log)` : title, font: { weight: 'bold' } },
      ticks: { callback: (v) => short(Number(v)), maxTicksLimit: 8 },
      grid: { color: 'rgba(0,0,0,0.06)' },
    });
    new Chart(canvas, {
      type: 'scatter',
      data: {
        datasets: [
          { label: anomalyLabel(anomalous.length, data.anomalyTotal), data: anomalous, backgroundColor: ANOMALY, borderColor: 'rgba(150,20,20,1)', borderWidth: 0.5, pointRadius: 3.5, pointHoverRadius: 6, pointStyle: 'triangle', order: 0 },
          { label: `Normal (${normal.length.toLocaleString('en-US')} shown)`, data: normal, backgroundColor: NORMAL, borderWidth: 0, pointRadius: normal.length > 4000 ? 1.6 : 2.4, pointHoverRadius: 5, order: 1 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: true },
        plugins: {
          legend: { position: 'top', labels: { usePointStyle: true, boxWidth: 8 } },
          tooltip: {
            callbacks: {
              title: (items) => {
                const raw = items[0].raw.raw;
                return `Row ${raw[3].toLocaleString('en-US')} · ${raw[2] === 1 ? 'ANOMALY' : 'normal'}`;
              },
              label: (item) => {
                const raw = item.raw.raw;
                return [`${data.x}: ${fmt(raw[0])}`, `${data.y}: ${fmt(raw[1])}`, `severity: ${Math.round(raw[4])}/100`];
              },
            },
          },
        },
        scales: { x: axis(data.x, logX), y: axis(data.y, logY) },
      },
    });
  }

  // ---- Timeline ----
  const tlCanvas = document.getElementById('timeline-chart');
  if (tlCanvas) {
    let data = null;
    try {
      data = JSON.parse(tlCanvas.getAttribute('data-timeline') || 'null');
    } catch {
      data = null;
    }
    if (data && Array.isArray(data.buckets) && data.buckets.length > 0) drawTimeline(tlCanvas, data);
  }

  /** A round time step giving at most `max` ticks (same steps as the server image). */
  function timeStep(span, max) {
    for (const s of STEPS) if (span / s <= max) return s;
    return Math.ceil(span / max / (1440 * MIN)) * 1440 * MIN;
  }
  function tickLabel(ms, step) {
    const iso = new Date(ms).toISOString();
    return step >= 1440 * MIN ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  }

  function sevColor(sev) {
    return sev >= 85 ? '#7a0916' : sev >= 70 ? '#dc3545' : sev >= 55 ? '#fd7e14' : '#6c757d';
  }

  function alignedTicks(first, last, step) {
    const ticks = [];
    for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push({ value: t });
    return ticks;
  }

  function drawTimeline(canvas, data) {
    const half = data.bucketMs / 2;
    const first = data.buckets[0][0];
    const last = data.buckets[data.buckets.length - 1][0] + data.bucketMs;
    const span = last - first;
    let maxFlows = 0;
    let maxAnom = 0;
    for (const b of data.buckets) {
      maxFlows = Math.max(maxFlows, b[1]);
      maxAnom = Math.max(maxAnom, b[2]);
    }
    const second = maxAnom > 0 && maxFlows / maxAnom > 4;
    const step = timeStep(span, canvas.clientWidth < 500 ? 4 : 8);
    const incidents = (data.incidents || []).map(([id, firstSeen, lastSeen, severity]) => ({ id, firstSeen, lastSeen, severity }));
    const lanes = incidentLanes(incidents, canvas.clientWidth < 500 ? 4 : 6, (span * 70) / Math.max(200, canvas.clientWidth - 80));
    const laneCount = lanes.reduce((m, l) => Math.max(m, l.lane + 1), 0);
    const LANE_H = 13;
    const bands = {
      id: 'fsBands',
      beforeDatasetsDraw(chart) {
        const x = chart.scales.x;
        const { top, bottom, left, right } = chart.chartArea;
        const ctx = chart.ctx;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, right - left, bottom - top);
        ctx.clip();
        ctx.fillStyle = 'rgba(255,193,7,0.28)';
        for (const b of data.bursts || []) {
          const x0 = x.getPixelForValue(b[0]);
          const x1 = Math.max(x.getPixelForValue(b[1]), x0 + 3);
          ctx.fillRect(x0, top, x1 - x0, bottom - top);
        }
        const hover = chart.$fsHover;
        if (hover) {
          ctx.fillStyle = 'rgba(220,53,69,0.10)';
          const x0 = x.getPixelForValue(hover.start);
          const x1 = Math.max(x.getPixelForValue(hover.end), x0 + 3);
          ctx.fillRect(x0, top, x1 - x0, bottom - top);
        }
        ctx.restore();
      },
      afterDraw(chart) {
        const x = chart.scales.x;
        const { top, left, right } = chart.chartArea;
        const ctx = chart.ctx;
        ctx.save();
        ctx.font = 'bold 10px system-ui, sans-serif';
        ctx.textBaseline = 'middle';
        chart.$fsLaneBoxes = [];
        for (const l of lanes) {
          const y = top - 6 - (l.lane + 1) * LANE_H;
          let x0 = Math.max(left, x.getPixelForValue(l.start));
          let x1 = Math.min(right, x.getPixelForValue(l.end));
          if (x1 - x0 < 4) {
            const m = (x0 + x1) / 2;
            x0 = m - 2;
            x1 = m + 2;
          }
          ctx.fillStyle = sevColor(l.severity);
          ctx.fillRect(x0, y, x1 - x0, LANE_H - 4);
          const w = ctx.measureText(l.id).width;
          if (x1 - x0 > w + 6) {
            ctx.fillStyle = '#fff';
            ctx.fillText(l.id, x0 + 3, y + (LANE_H - 4) / 2);
          } else {
            ctx.fillStyle = sevColor(l.severity);
            ctx.fillText(l.id, x1 + 3 + w < right ? x1 + 3 : x0 - 3 - w, y + (LANE_H - 4) / 2);
          }
          chart.$fsLaneBoxes.push({ x0: x0 - 2, x1: Math.max(x1, x0 + w) + 2, y0: y - 2, y1: y + LANE_H, lane: l });
        }
        ctx.restore();
      },
      afterEvent(chart, args) {
        const e = args.event;
        const boxes = chart.$fsLaneBoxes || [];
        const hit = e.type === 'mousemove' ? boxes.find((b) => e.x >= b.x0 && e.x <= b.x1 && e.y >= b.y0 && e.y <= b.y1) : null;
        const next = hit ? hit.lane : null;
        if (next !== (chart.$fsHover || null)) {
          chart.$fsHover = next;
          chart.canvas.style.cursor = next ? 'pointer' : '';
          args.changed = true;
        }
        if (e.type === 'click' && hit) window.location.hash = `inc-${hit.lane.id}`;
      },
    };
    new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          { label: 'Anomalies', data: data.buckets.map((b) => ({ x: b[0] + half, y: b[2] })), borderColor: '#d62728', backgroundColor: '#d62728', borderWidth: 2, pointRadius: data.buckets.length > 150 ? 0 : 2, yAxisID: second ? 'y1' : 'y', order: 0 },
          { label: 'Flows', data: data.buckets.map((b) => ({ x: b[0] + half, y: b[1] })), borderColor: '#1f77b4', backgroundColor: 'rgba(31,119,180,0.15)', fill: 'origin', borderWidth: 1.5, pointRadius: 0, yAxisID: 'y', order: 1 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { position: 'bottom' },
          // The incident lanes are drawn in this title's bottom padding, just above the chart area.
          title: { display: laneCount > 0, text: 'Incidents', align: 'start', color: '#6c757d', font: { size: 11, weight: 'normal' }, padding: { top: 0, bottom: laneCount * LANE_H + 6 } },
          tooltip: {
            callbacks: {
              title: (items) => {
                const start = items[0].parsed.x - half;
                return `${new Date(start).toISOString().replace('T', ' ').slice(0, 16)} UTC (+${Math.round(data.bucketMs / 60000)} min)`;
              },
              afterBody: (items) => {
                const t = items[0].parsed.x;
                const hits = (data.incidents || []).filter((inc) => inc[1] <= t + half && inc[2] >= t - half).map((inc) => inc[0]);
                return hits.length ? [`Incidents: ${hits.join(', ')}`] : [];
              },
            },
          },
        },
        scales: {
          x: { type: 'linear', min: first, max: last, afterBuildTicks: (scale) => { scale.ticks = alignedTicks(first, last, step); }, ticks: { maxRotation: 0, autoSkip: true, callback: (v) => tickLabel(Number(v), step) }, grid: { color: 'rgba(0,0,0,0.06)' } },
          y: { beginAtZero: true, title: { display: true, text: second ? 'flows' : 'flows / anomalies' }, ticks: { precision: 0, callback: (v) => short(Number(v)) } },
          ...(second ? { y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'anomalies', color: '#d62728' }, ticks: { precision: 0, color: '#d62728' } } } : {}),
        },
      },
      plugins: [bands],
    });
  }
})();
