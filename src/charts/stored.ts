/**
 * Charts drawn from what an analysis stores, so an analysis can answer before its PNGs are drawn:
 * charts.json holds the chart settings the analysis ran with and the score histogram; the scatter
 * draws points.json's sample; the timeline draws the summary's time analysis and incidents. The
 * PNG bytes are the same as when drawn from the analysis' in-memory data.
 */
import { z } from 'zod';
import type { ChartPoints } from '../analysis/types.ts';
import type { TimeAnalysis } from '../findings/types.ts';
import { type DistributionData, renderDistributionData, renderScatter, renderTimeline, type TimelineIncident } from './render.ts';
import type { ChartSettings } from './types.ts';

export const CHART_KINDS = ['scatter', 'distribution', 'timeline'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

export const CHART_INPUTS_VERSION = 1;

/** charts.json. */
export interface ChartInputs {
  readonly version: typeof CHART_INPUTS_VERSION;
  /** The settings when the analysis ran (a later config change does not redraw old analyses differently). */
  readonly settings: ChartSettings;
  readonly distribution: DistributionData;
}

/** Where a chart's data comes from; each is read only for the chart that needs it. */
export interface ChartSources {
  readonly inputs: ChartInputs;
  points(): Promise<ChartPoints>;
  timeline(): Promise<{ readonly time: TimeAnalysis; readonly incidents: readonly TimelineIncident[] }>;
}

/** Draws one chart of an analysis. */
export async function renderStoredChart(kind: ChartKind, sources: ChartSources): Promise<Buffer> {
  const { settings, distribution } = sources.inputs;
  if (kind === 'scatter') return renderScatter(await sources.points(), settings);
  if (kind === 'distribution') return renderDistributionData(distribution, settings);
  const { time, incidents } = await sources.timeline();
  return renderTimeline(time, incidents, settings);
}

const figsize = z.tuple([z.number().positive(), z.number().positive()]);
const counts = z.array(z.number().int().min(0)).min(1);
const chartInputsSchema = z.object({
  version: z.literal(CHART_INPUTS_VERSION),
  settings: z.object({
    scatter: z.object({ figsize, alpha: z.number().min(0).max(1), colors: z.object({ normal: z.string(), anomaly: z.string() }) }),
    distribution: z.object({ figsize, bins: z.number().int().min(1) }),
  }),
  distribution: z
    .object({
      lo: z.number(),
      hi: z.number(),
      offset: z.number(),
      normal: counts,
      anomalous: counts,
      normalTotal: z.number().int().min(0),
      anomalyTotal: z.number().int().min(0),
    })
    .refine((d) => d.normal.length === d.anomalous.length && d.hi > d.lo, 'the histogram\'s bins or range are inconsistent'),
});

/** Reads charts.json text; throws an Error naming the first problem when it is not one. */
export function parseChartInputs(text: string): ChartInputs {
  const parsed = chartInputsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid charts.json at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as ChartInputs;
}
