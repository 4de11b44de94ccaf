export type { ChartSettings, VisualizationConfig } from './types.ts';
export { DEFAULT_CHART_SETTINGS, PX_PER_INCH, chartSettingsFromConfig } from './types.ts';
export { sampleChartPoints, useLogScale, mulberry32, DEFAULT_MAX_ANOMALIES } from './sample.ts';
export type { SampledChartPoints, SampleOptions } from './sample.ts';
export { renderScatter, renderDistribution, renderDistributionData, distributionData, renderTimeline, scatterSubtitle, incidentLanes } from './render.ts';
export type { DistributionData, IncidentLane, TimelineIncident } from './render.ts';
export { CHART_INPUTS_VERSION, CHART_KINDS, parseChartInputs, renderStoredChart } from './stored.ts';
export type { ChartInputs, ChartKind, ChartSources } from './stored.ts';
