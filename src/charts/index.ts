export type { ChartSettings, VisualizationConfig } from './types.ts';
export { DEFAULT_CHART_SETTINGS, PX_PER_INCH, chartSettingsFromConfig } from './types.ts';
export { sampleChartPoints, useLogScale, mulberry32, DEFAULT_MAX_ANOMALIES } from './sample.ts';
export type { SampledChartPoints, SampleOptions } from './sample.ts';
export { renderScatter, renderDistribution, renderTimeline, scatterSubtitle, incidentLanes } from './render.ts';
export type { IncidentLane } from './render.ts';
