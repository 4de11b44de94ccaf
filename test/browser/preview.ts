/**
 * A preview server for the views: the same static mounts and CSP as the real app, pages rendered
 * from sample locals (test/browser/fixtures.ts), chart images from src/charts. Used by
 * pages.test.ts and, by hand, `node --import tsx test/browser/preview.ts` (PORT, default 5055).
 */
import path from 'node:path';
import express, { type Express } from 'express';
import { CONTENT_SECURITY_POLICY } from '../../src/web/security.ts';
import { DEFAULT_CHART_SETTINGS, renderDistribution, renderScatter, renderTimeline, mulberry32 } from '../../src/charts/index.ts';
import { analysisLocals, recentList, sampleIncidents, samplePoints, sampleTime } from './fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export function createPreviewApp(): Express {
  const app = express();
  app.set('view engine', 'ejs');
  app.set('views', path.join(ROOT, 'views'));
  app.use((_req, res, next) => {
    res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    next();
  });
  app.use('/static/bootstrap', express.static(path.join(ROOT, 'node_modules', 'bootstrap', 'dist')));
  app.use('/static/chart.js', express.static(path.join(ROOT, 'node_modules', 'chart.js', 'dist')));
  app.use('/static', express.static(path.join(ROOT, 'public')));

  const q = (v: unknown) => (typeof v === 'string' ? v : undefined);
  app.get('/', (req, res) => {
    res.render('pages/home', {
      title: 'Network traffic anomaly detection',
      currentPath: '/',
      recent: q(req.query.empty) ? [] : recentList(5),
      generated: q(req.query.generated) ? { filename: 'sample_20240115_083000_abc123.csv', records: 12000, download_url: '/download_sample/sample_20240115_083000_abc123.csv' } : null,
      defaults: { features: ['bytes_transferred', 'packet_count', 'connection_duration'], contamination: 0.05, n_estimators: 100, random_state: 42 },
      maxUploadMb: 512,
      error: q(req.query.error) ?? null,
    });
  });
  app.get('/history', (req, res) => {
    res.render('pages/history', { title: 'History', currentPath: '/history', analyses: q(req.query.empty) ? [] : recentList(8) });
  });
  app.get('/analysis/:id/points.json', (_req, res) => {
    res.json(samplePoints());
  });
  app.get('/analysis/:id', (req, res) => {
    res.render(
      'pages/analysis',
      analysisLocals({
        timeAvailable: !q(req.query.notime),
        incidents: !q(req.query.noinc),
        page: Number(q(req.query.page) ?? 1),
        size: Number(q(req.query.size) ?? 25),
        total: q(req.query.none) ? 0 : 613,
        incident: q(req.query.incident),
      }),
    );
  });
  const images = new Map<string, Buffer>();
  app.get('/visualization/:id/:kind', async (req, res) => {
    const kind = req.params.kind;
    let png = images.get(kind);
    if (!png) {
      if (kind === 'scatter') png = await renderScatter(samplePoints(), DEFAULT_CHART_SETTINGS);
      else if (kind === 'distribution') {
        const r = mulberry32(1);
        const n = 5000;
        const scores = new Float64Array(n);
        const a = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          a[i] = i % 20 === 0 ? 1 : 0;
          scores[i] = a[i] ? -0.53 - 0.1 * r() : -0.36 - 0.16 * r();
        }
        png = await renderDistribution(scores, a, -0.5213, DEFAULT_CHART_SETTINGS);
      } else if (kind === 'timeline') png = await renderTimeline(sampleTime(true), sampleIncidents(), DEFAULT_CHART_SETTINGS);
      else {
        res.status(404).end();
        return;
      }
      images.set(kind, png);
    }
    res.type('png').send(png);
  });
  app.get('/preview/error', (req, res) => {
    res.status(422).render('pages/error', {
      title: 'Error',
      currentPath: '/preview/error',
      status: 422,
      message: 'Row 14 has 5 fields but the header has 8.',
      details: { line: 14, column: 6, columnName: 'bytes_transferred' },
      stack: q(req.query.stack) ? 'Error: boom\n    at parse (src/ingest/csv.ts:10:5)' : null,
    });
  });
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 5055);
  createPreviewApp().listen(port, '127.0.0.1', () => console.log(`preview on http://127.0.0.1:${port}`));
}
