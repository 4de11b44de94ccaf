/**
 * Browser-test helpers: find Debian's chromium, launch it headless, listen on port 0, and the code
 * the tests run inside their pages (images loaded, Chart.js charts drawn, what an element showed).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const RESULTS_DIR = path.resolve(import.meta.dirname, '../../test-results');

// Code inside page.evaluate/waitForFunction runs in the browser; the project's tsconfig has no DOM
// lib (src/ is Node code), so the few browser globals that code uses are declared loosely, here
// only: the tests run their page code through the functions below, and cast elements with the
// loose element types exported here.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
export type HTMLElement = any;
export type HTMLImageElement = any;
export type HTMLCanvasElement = any;
export type HTMLDetailsElement = any;

/** Path of a chromium binary, or null (tests then skip with a message). */
export function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    return found || null;
  } catch {
    return null;
  }
}

const CHROMIUM = findChromium();

/** A browser suite's `skip` option: false, or why it cannot run here. */
export const NO_CHROMIUM: false | string = CHROMIUM ? false : 'no chromium binary found (install Debian package "chromium" or set CHROMIUM_PATH)';

/** Headless chromium (the one findChromium found; suites skip with NO_CHROMIUM when there is none). */
export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error(String(NO_CHROMIUM));
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0. */
export async function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }): Promise<Listening> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Full-page screenshot into test-results/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Collects console errors and CSP violations of a page (a page must produce none). */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

export const DESKTOP = { width: 1366, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Waits until each `<img id>` has loaded; their natural widths. */
export async function waitForImages(page: Page, ids: readonly string[]): Promise<number[]> {
  const widths: number[] = [];
  for (const id of ids) {
    await page.waitForFunction((i) => {
      const img = document.getElementById(i) as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth > 0;
    }, id);
    widths.push(await page.locator(`#${id}`).evaluate((img) => (img as HTMLImageElement).naturalWidth));
  }
  return widths;
}

/** Waits until Chart.js has drawn a chart on each `<canvas id>`; each chart's number of points per dataset. */
export async function waitForCharts(page: Page, canvasIds: readonly string[]): Promise<number[][]> {
  const handle = await page.waitForFunction((ids) => {
    const charts = ids.map((id) => window.Chart?.getChart(document.getElementById(id) as HTMLCanvasElement));
    return charts.every(Boolean) && charts.map((c) => c.data.datasets.map((d: { data: unknown[] }) => d.data.length));
  }, canvasIds);
  return (await handle.jsonValue()) as number[][];
}

/** The type of the x and y scales ('linear', 'logarithmic', ...) of the chart on `<canvas id>`. */
export async function chartScaleTypes(page: Page, canvasId: string): Promise<{ x: string; y: string }> {
  return page.evaluate((id) => {
    const chart = window.Chart.getChart(document.getElementById(id) as HTMLCanvasElement);
    return { x: chart.scales.x.type, y: chart.scales.y.type };
  }, canvasId);
}

/** Where, in page coordinates, Chart.js drew point `index` of dataset `dataset` on `<canvas id>` (to hover it). */
export async function chartPoint(page: Page, canvasId: string, dataset: number, index: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([id, ds, i]) => {
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const el = window.Chart.getChart(canvas).getDatasetMeta(ds).data[i];
      const r = canvas.getBoundingClientRect();
      return { x: r.left + el.x, y: r.top + el.y };
    },
    [canvasId, dataset, index] as const,
  );
}

/** Waits until the tooltip of the chart on `<canvas id>` is shown with a first title line matching `title`. */
export async function waitForChartTooltip(page: Page, canvasId: string, title: RegExp): Promise<void> {
  await page.waitForFunction(
    ([id, source, flags]) => {
      const t = window.Chart.getChart(document.getElementById(id) as HTMLCanvasElement).tooltip;
      return t.opacity > 0 && new RegExp(source, flags).test(t.title[0] ?? '');
    },
    [canvasId, title.source, title.flags] as const,
  );
}

/**
 * From now on, each change inside `#watchedId` while it is shown (has no d-none class) records the
 * text of `#textId`: what a user saw during an action that may leave the page. The array fills as
 * the page changes (through an exposed function, so it survives the navigation it watches).
 */
export async function recordWhileShown(page: Page, watchedId: string, textId: string): Promise<string[]> {
  const seen: string[] = [];
  const record = `fsRecord_${watchedId.replace(/\W/g, '_')}`;
  await page.exposeFunction(record, (text: string) => seen.push(text));
  await page.evaluate(
    ([watched, text, fn]) => {
      const el = document.getElementById(watched) as HTMLElement;
      new MutationObserver(() => {
        if (!el.classList.contains('d-none')) window[fn](document.getElementById(text)?.textContent ?? '');
      }).observe(el, { attributes: true, subtree: true, childList: true, characterData: true });
    },
    [watchedId, textId, record] as const,
  );
  return seen;
}

/** What the analysis page's interactive timeline drew: its incident lanes, its data-timeline and its canvas width. */
export async function timelineLanes(page: Page): Promise<{
  lanes: { id: string; start: number; end: number; severity: number; lane: number }[];
  timeline: { bucketMs: number; buckets: [number, number, number][]; incidents: [string, number, number, number][] };
  width: number;
}> {
  await waitForCharts(page, ['timeline-chart']);
  return page.evaluate(() => {
    const canvas = document.getElementById('timeline-chart') as HTMLCanvasElement;
    const boxes: { lane: { id: string; start: number; end: number; severity: number; lane: number } }[] = window.Chart.getChart(canvas).$fsLaneBoxes ?? [];
    return { lanes: boxes.map((b) => b.lane), timeline: JSON.parse(canvas.getAttribute('data-timeline')), width: canvas.clientWidth };
  });
}
