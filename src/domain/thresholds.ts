import type { AlertThresholds } from './alert-machine';
import { decimalToWad } from './risk';

/** Thresholds as users give them (decimal numbers), stored as such and converted for the math. */
export type StoredThresholds = { warning: number; marginCall: number; critical: number };

export function thresholdsToWad(thresholds: StoredThresholds): AlertThresholds {
  return {
    warning: decimalToWad(String(thresholds.warning)),
    marginCall: decimalToWad(String(thresholds.marginCall)),
    critical: decimalToWad(String(thresholds.critical)),
  };
}
