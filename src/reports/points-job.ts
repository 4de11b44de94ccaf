/**
 * The chart points of an analysis as a job of plain data (the report worker runs it on another
 * core; the pipeline runs the same function in-process for small inputs): sampleChartPoints and
 * points.json.
 */
import { writeFile } from 'node:fs/promises';
import { sampleChartPoints, type SampleOptions, type SampledChartPoints } from '../charts/sample.ts';

/** The chart points of an analysis: sampleChartPoints' inputs, and where points.json goes. */
export interface PointsJob {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly isAnomaly: Uint8Array;
  readonly severity: Float64Array;
  readonly options: SampleOptions;
  readonly outPath: string;
}

/** Samples the points and writes points.json (the same bytes the pipeline writes in-process). */
export async function writePoints(job: PointsJob): Promise<SampledChartPoints> {
  const points = sampleChartPoints(job.x, job.y, job.isAnomaly, job.severity, job.options);
  await writeFile(job.outPath, JSON.stringify(points));
  return points;
}


/**
 * What the pipeline keeps of the chart points: everything but the points themselves (the summary
 * names the axes and the counts). A report worker answers with this, so tens of thousands of small
 * arrays are not copied back to the main thread, which needs none of them.
 */
export type ChartPointsInfo = Omit<SampledChartPoints, 'points'> & { readonly pointCount: number };

export function chartPointsInfo(points: SampledChartPoints): ChartPointsInfo {
  const { points: list, ...info } = points;
  return { ...info, pointCount: list.length };
}
