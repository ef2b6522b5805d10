import { downsample, type HfPoint } from '../watches/hf-history';
import type { StoredThresholds } from '../domain/thresholds';

/** The history ranges a watch page offers, in days; the first is the default. */
export const CHART_RANGES = { '1d': 1, '7d': 7, '30d': 30 } as const;
export type ChartRange = keyof typeof CHART_RANGES;
/** Points drawn at most: a phone draws 30 days of 5-minute points (8,640) as this many. */
export const MAX_CHART_POINTS = 720;

export function chartRangeOf(value: string | undefined): ChartRange {
  return value !== undefined && Object.hasOwn(CHART_RANGES, value) ? (value as ChartRange) : '1d';
}

export function rangeStart(range: ChartRange, now: number): number {
  return now - CHART_RANGES[range] * 86_400_000;
}

/**
 * What public/dashboard/chart.js draws (uPlot's column layout, times in unix seconds) with
 * the watch's threshold lines and the liquidation line at 1.0.
 */
export type ChartData = { times: number[]; healthFactors: Array<number | null>; lines: { warning: number; marginCall: number; critical: number; liquidation: 1 } };

export function chartData(points: readonly HfPoint[], thresholds: StoredThresholds): ChartData {
  const drawn = downsample(points, MAX_CHART_POINTS);
  return {
    times: drawn.map((point) => Math.floor(point.at / 1000)),
    healthFactors: drawn.map((point) => point.healthFactor),
    lines: { warning: thresholds.warning, marginCall: thresholds.marginCall, critical: thresholds.critical, liquidation: 1 },
  };
}

/** The lowest health factor in the range, for the chart's text summary; null when none was recorded or there is no debt. */
export function lowestHealthFactor(points: readonly HfPoint[]): HfPoint | null {
  let lowest: HfPoint | null = null;
  for (const point of points) if (point.healthFactor !== null && (lowest === null || point.healthFactor < lowest.healthFactor!)) lowest = point;
  return lowest;
}
