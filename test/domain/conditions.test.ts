import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { conditionEventId, conditionStep, initialConditionState, type ConditionState } from '../../src/domain/conditions';
import type { ProtocolCondition } from '../../src/domain/position';
import { buildConditionEvent, type ConditionEventBody } from '../../src/notify/event-body';
import { eventMetaOf } from '../../src/notify/event-meta';
import { messageFor } from '../../src/notify/render';
import { renderDiscordMessage } from '../../src/notify/discord-format';
import { renderSlackMessage } from '../../src/notify/slack-format';
import { renderNtfyMessage } from '../../src/notify/ntfy-format';
import { renderPagerDutyRequest } from '../../src/notify/pagerduty-format';
import { renderTelegramMessage } from '../../src/notify/telegram-format';
import { renderEmail } from '../../src/notify/email-format';
import { eventSummary } from '../../src/dashboard/present';
import { SHARED_RESPONSE_SCHEMAS } from '../../src/api/response-schemas';
import { handleDiscord } from '../helpers/discord-stand-in';
import { handleSlack } from '../helpers/slack-stand-in';
import { ntfyHandler } from '../helpers/ntfy-stand-in';
import { pagerDutyHandler } from '../helpers/pagerduty-stand-in';
import { parseMarkdownV2 } from '../helpers/telegram-stand-in';
import { alertEventFixture, positionFixture } from '../helpers/fixtures';

const WATCH = 'w_0123456789abcdef0123';
const ccr = (met = true): ProtocolCondition => ({
  code: 'branch_below_ccr',
  severity: 'warning',
  title: 'Branch below its critical collateral ratio',
  message: "The branch's total collateral ratio is 143.70%, under its CCR of 150.00%: borrowing is restricted.",
  facts: { branchCollateralRatio: '1.437', criticalCollateralRatio: '1.5' },
  met,
});
const shutdown: ProtocolCondition = { code: 'branch_shutdown', severity: 'critical', title: 'Branch shut down', message: 'The WETH branch has been shut down for good.', facts: { branchShutdown: true }, met: true };

function step(state: ConditionState, conditions: ProtocolCondition[], block: bigint, now = 1_000) {
  return conditionStep(state, { conditions, blockNumber: block, observedAt: Number(block) * 12_000 }, { watchId: WATCH, now });
}

describe('condition episodes: raised and cleared, once each', () => {
  it('raises a condition on its first read, stays quiet while it holds, clears it once when it is no longer reported', () => {
    const first = step(initialConditionState(), [ccr()], 100n);
    expect(first.effects).toEqual([
      expect.objectContaining({ type: 'condition.raised', eventId: `evt_${WATCH}_cnd_branch_below_ccr_${(100).toString(36)}_raised`, blockNumber: 100n, condition: expect.objectContaining({ code: 'branch_below_ccr', sinceBlock: '100', since: 1_200_000 }) }),
    ]);
    const holding = step(first.state, [ccr()], 101n);
    expect(holding.effects).toEqual([]);
    expect(holding.state.active.map((condition) => condition.sinceBlock)).toEqual(['100']);
    const ended = step(holding.state, [], 102n);
    expect(ended.effects).toEqual([expect.objectContaining({ type: 'condition.cleared', eventId: `evt_${WATCH}_cnd_branch_below_ccr_${(100).toString(36)}_cleared`, blockNumber: 102n })]);
    expect(ended.state).toEqual({ active: [], lastBlockNumber: '102' });
    expect(step(ended.state, [], 103n).effects).toEqual([]);
  });

  it('inside its margin (met false) a condition keeps an open episode open and never opens one', () => {
    expect(step(initialConditionState(), [ccr(false)], 100n)).toEqual({ state: { active: [], lastBlockNumber: '100' }, effects: [] });
    const raised = step(initialConditionState(), [ccr()], 100n);
    const margin = step(raised.state, [ccr(false)], 101n);
    expect(margin.effects).toEqual([]);
    expect(margin.state.active).toHaveLength(1);
    expect(step(margin.state, [], 102n).effects.map((effect) => effect.type)).toEqual(['condition.cleared']);
  });

  it('a new episode after a clear has its own ids; a retried read of the same block names the same ids and adds nothing', () => {
    const a = step(initialConditionState(), [ccr()], 100n);
    const b = step(a.state, [], 110n);
    const c = step(b.state, [ccr()], 120n);
    expect(c.effects[0]!.eventId).toBe(conditionEventId(WATCH, 'branch_below_ccr', '120', 'raised'));
    expect(c.effects[0]!.eventId).not.toBe(a.effects[0]!.eventId);
    // The shard commits state and events together; a tick run again from the old state repeats the same id.
    expect(step(b.state, [ccr()], 120n, 9_999).effects[0]!.eventId).toBe(c.effects[0]!.eventId);
    expect(step(c.state, [ccr()], 120n).effects).toEqual([]);
  });

  it('judges each block once: a second read of a block already judged changes nothing, so an episode never ends and restarts within one block', () => {
    const raised = step(initialConditionState(), [ccr()], 100n);
    expect(step(raised.state, [], 100n)).toEqual({ state: raised.state, effects: [] });
    const quiet = step(initialConditionState(), [], 100n);
    expect(step(quiet.state, [ccr()], 100n)).toEqual({ state: quiet.state, effects: [] });
  });

  it('ignores a read from an older block than one already seen: a lagging node neither ends nor opens an episode', () => {
    const raised = step(initialConditionState(), [ccr()], 100n);
    expect(step(raised.state, [], 99n)).toEqual({ state: raised.state, effects: [] });
    expect(step(step(initialConditionState(), [], 100n).state, [ccr()], 99n).effects).toEqual([]);
  });

  it('in one read, clears what ended before raising what began, each in its own order, and keeps the newest figures of what goes on', () => {
    const both = step(initialConditionState(), [ccr(), { ...shutdown, code: 'redemption_risk' }], 100n);
    expect(both.effects.map((effect) => effect.condition.code)).toEqual(['branch_below_ccr', 'redemption_risk']);
    const next = step(both.state, [shutdown, { ...ccr(), facts: { branchCollateralRatio: '1.2' } }], 101n);
    expect(next.effects.map((effect) => [effect.type, effect.condition.code])).toEqual([
      ['condition.cleared', 'redemption_risk'],
      ['condition.raised', 'branch_shutdown'],
    ]);
    expect(next.state.active.map((condition) => [condition.code, condition.facts.branchCollateralRatio ?? null, condition.sinceBlock])).toEqual([
      ['branch_below_ccr', '1.2', '100'],
      ['branch_shutdown', null, '101'],
    ]);
  });

  it('over any sequence of reads, per condition the events alternate raised, cleared, raised… with ids never repeated, and the active set is what was raised and not cleared', () => {
    const codes = ['a', 'b', 'c'] as const;
    const read = fc.record({ block: fc.integer({ min: 0, max: 40 }), reported: fc.subarray([...codes]), met: fc.subarray([...codes]) });
    fc.assert(
      fc.property(fc.array(read, { maxLength: 30 }), (reads) => {
        let state = initialConditionState();
        const ids = new Set<string>();
        const last = new Map<string, string>();
        for (const { block, reported, met } of reads) {
          const conditions = reported.map((code) => ({ ...ccr(met.includes(code)), code }));
          const result = step(state, conditions, BigInt(block));
          for (const effect of result.effects) {
            expect(ids.has(effect.eventId)).toBe(false);
            ids.add(effect.eventId);
            expect(last.get(effect.condition.code) ?? 'condition.cleared').not.toBe(effect.type);
            last.set(effect.condition.code, effect.type);
          }
          state = result.state;
        }
        const open = [...last].filter(([, type]) => type === 'condition.raised').map(([code]) => code).sort();
        expect(state.active.map((condition) => condition.code).sort()).toEqual(open);
      }),
      { numRuns: 300 },
    );
  });

  it('a watch whose protocol reports no conditions never gets an effect', () => {
    let state = initialConditionState();
    for (let block = 1n; block < 20n; block++) {
      const result = step(state, [], block);
      expect(result.effects).toEqual([]);
      state = result.state;
    }
    expect(state.active).toEqual([]);
  });
});

function conditionEvent(type: 'raised' | 'cleared', label = 'trove'): ConditionEventBody {
  const raised = step(initialConditionState(), [shutdown], 19_000_100n, Date.parse('2026-11-25T03:12:09.120Z'));
  const effect = type === 'raised' ? raised.effects[0]! : step(raised.state, [], 19_000_123n, Date.parse('2026-11-25T04:00:00Z')).effects[0]!;
  return buildConditionEvent({ effect, watch: { ...alertEventFixture(label).watch, protocol: 'liquity-v2' }, position: positionFixture({ troveId: `0x${'0'.repeat(63)}7` } as never) });
}

describe('condition events on every channel', () => {
  it('the webhook body is the documented ConditionEvent: code, severity, words, facts, episode start and the position', () => {
    const body = conditionEvent('raised');
    expect(SHARED_RESPONSE_SCHEMAS.ConditionEvent!.parse(JSON.parse(JSON.stringify(body)))).toEqual(body);
    expect(body).toMatchObject({
      id: `evt_${WATCH}_cnd_branch_shutdown_${(19_000_100).toString(36)}_raised`,
      type: 'condition.raised',
      createdAt: '2026-11-25T03:12:09.120Z',
      condition: { code: 'branch_shutdown', severity: 'critical', title: 'Branch shut down', sinceBlock: '19000100', blockNumber: '19000100', facts: { branchShutdown: true } },
      position: { healthFactor: '1.0725' },
    });
    expect(SHARED_RESPONSE_SCHEMAS.ConditionEvent!.parse(JSON.parse(JSON.stringify(conditionEvent('cleared'))))).toMatchObject({ type: 'condition.cleared', condition: { sinceBlock: '19000100', blockNumber: '19000123' } });
  });

  it('the message says what began (its own words, facts, health factor) and what ended', () => {
    const raised = messageFor(conditionEvent('raised'));
    expect(raised.title).toBe('CRITICAL · Branch shut down · trove');
    expect(raised.headline).toBe('The WETH branch has been shut down for good.');
    expect(raised.facts).toEqual(expect.arrayContaining([{ label: 'branchShutdown', value: 'true' }, { label: 'Health factor', value: '1.0725' }]));
    const cleared = messageFor(conditionEvent('cleared'));
    expect(cleared.title).toBe('CLEARED · Branch shut down · trove');
    expect(cleared.headline).toContain('No longer the case: branch shut down');
    expect(cleared.facts).toContainEqual({ label: 'Lasted', value: 'block 19000100 → 19000123' });
    expect(eventSummary(conditionEvent('raised'))).toBe('raised: Branch shut down');
  });

  it.each(['raised', 'cleared'] as const)('condition.%s is accepted by Telegram, email, Discord, Slack, ntfy and PagerDuty as each renders it', (type) => {
    const body = conditionEvent(type, `@everyone <!channel> _*[trove]*_ ${'x'.repeat(40)}`);
    const model = messageFor(body);
    const meta = eventMetaOf(body);
    const json = { 'content-type': 'application/json' };
    const request = (path: string, value: unknown) => ({ method: 'POST', path, headers: json, rawBody: JSON.stringify(value) });
    const telegram = parseMarkdownV2(renderTelegramMessage(model));
    expect(telegram.ok, JSON.stringify(telegram)).toBe(true);
    const email = renderEmail(model);
    expect(email.subject).toContain(type === 'raised' ? 'CRITICAL · Branch shut down' : 'CLEARED · Branch shut down');
    expect(email.text).toContain(body.id);
    expect(handleDiscord(request(`/api/webhooks/123456789012345678/${'t'.repeat(68)}`, renderDiscordMessage(model, meta)))).toHaveProperty('accepted');
    expect(handleSlack(request('/services/T0000000/B0000000/xxxxxxxxxxxxxxxxxxxxxxxx', renderSlackMessage(model)))).toHaveProperty('accepted');
    expect(ntfyHandler(new Map())(request('/', renderNtfyMessage(model, meta, 'topic')))).toHaveProperty('accepted');
    const pagerDuty = renderPagerDutyRequest(model, meta, 'k'.repeat(32));
    expect(pagerDutyHandler(new Map())(request(pagerDuty.path, pagerDuty.body))).toHaveProperty('accepted');
  });

  it('severity follows the condition while raised; PagerDuty opens one incident per watch and condition and resolves it when cleared; ntfy tags follow', () => {
    const raised = conditionEvent('raised');
    const cleared = conditionEvent('cleared');
    expect(eventMetaOf(raised)).toMatchObject({ severity: 'critical', level: null, condition: { code: 'branch_shutdown', severity: 'critical' } });
    expect(eventMetaOf({ ...raised, condition: { ...raised.condition, severity: 'warning' } }).severity).toBe('warning');
    expect(eventMetaOf(cleared).severity).toBe('info');
    const render = (body: ConditionEventBody) => renderPagerDutyRequest(messageFor(body), eventMetaOf(body), 'k'.repeat(32));
    expect(render(raised)).toMatchObject({ path: '/v2/enqueue', body: { event_action: 'trigger', dedup_key: `${WATCH}/condition/branch_shutdown`, payload: { severity: 'critical', class: 'condition.raised' } } });
    expect(render(cleared)).toMatchObject({ body: { event_action: 'resolve', dedup_key: `${WATCH}/condition/branch_shutdown` } });
    expect(renderNtfyMessage(messageFor(raised), eventMetaOf(raised), 't')).toMatchObject({ priority: 4, tags: ['rotating_light'] });
    expect(renderNtfyMessage(messageFor(cleared), eventMetaOf(cleared), 't')).toMatchObject({ priority: 3, tags: ['white_check_mark'] });
  });
});
