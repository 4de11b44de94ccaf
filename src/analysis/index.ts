export { runAnalysis, chooseAxes, type RunAnalysisOptions } from './pipeline.ts';
export { AnalysisQueue, QueueFullError, QueueClosedError, type QueueOptions } from './queue.ts';
export * from './types.ts';
