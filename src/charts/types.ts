/**
 * Settings for the server-side charts, from config.json "visualization" (figsize in inches, drawn
 * at 100 px per inch, as matplotlib's default dpi).
 */
export interface ChartSettings {
  readonly scatter: {
    readonly figsize: readonly [number, number];
    readonly alpha: number;
    readonly colors: { readonly normal: string; readonly anomaly: string };
  };
  readonly distribution: { readonly figsize: readonly [number, number]; readonly bins: number };
}

/** Pixels per inch of figsize. */
export const PX_PER_INCH = 100;

export const DEFAULT_CHART_SETTINGS: ChartSettings = Object.freeze({
  scatter: { figsize: [12, 8] as const, alpha: 0.6, colors: { normal: '#1f77b4', anomaly: '#d62728' } },
  distribution: { figsize: [12, 6] as const, bins: 50 },
});

/** config.json's "visualization" block, as written there (snake_case keys). */
export interface VisualizationConfig {
  readonly scatter_plot: {
    readonly figsize: readonly [number, number] | readonly number[];
    readonly alpha: number;
    readonly colors: { readonly normal: string; readonly anomaly: string };
  };
  readonly distribution_plot: { readonly figsize: readonly [number, number] | readonly number[]; readonly bins: number };
}

/** Maps config.json's "visualization" block to ChartSettings. */
export function chartSettingsFromConfig(v: VisualizationConfig): ChartSettings {
  const pair = (f: readonly number[]): [number, number] => [f[0], f[1]];
  return {
    scatter: { figsize: pair(v.scatter_plot.figsize), alpha: v.scatter_plot.alpha, colors: { ...v.scatter_plot.colors } },
    distribution: { figsize: pair(v.distribution_plot.figsize), bins: v.distribution_plot.bins },
  };
}
