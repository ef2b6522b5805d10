import { expect } from 'vitest';
import type { Received } from './monitor-helpers';

/** What a price walk down through every line and back must deliver: each level once, in order, each signed and accepted. */
export function expectSignedAlertLadder(events: readonly Received[]): void {
  expect(events.map((event) => [event.body.type, event.body.level])).toEqual([
    ['alert.triggered', 'warning'],
    ['alert.escalated', 'margin_call'],
    ['alert.escalated', 'critical'],
    ['alert.resolved', 'ok'],
  ]);
  expect(events.every((event) => event.verified && event.status === 200)).toBe(true);
}
