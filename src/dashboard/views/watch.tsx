import type { EventRecord } from '../../watches/records';
import type { WatchWithStatus } from '../../watches/service';
import type { HfPoint } from '../../watches/hf-history';
import { CHART_RANGES, type ChartData, type ChartRange } from '../chart';
import { SILENCE_CHOICES } from '../silence';
import { ageText, distanceText, eventSummary, healthFactorText, levelName, percentText, risk24h, shortHex } from '../present';
import { HeaderRow, Layout, Notice, PostForm, Time, type Session } from './layout';
import { LevelBadge } from './watches';
import { valueText } from '../../notify/money-text';

export type WatchPageProps = {
  session: Session;
  watch: WatchWithStatus;
  events: EventRecord[];
  chart: ChartData;
  range: ChartRange;
  lowest: HfPoint | null;
  channelLabels: Map<string, string>;
  notice: { text: string; kind: 'ok' | 'error' } | null;
  now: number;
};

export function WatchPage(props: WatchPageProps) {
  const { watch } = props;
  const position = watch.position;
  const observedAt = position?.observedAt ?? null;
  const risk = risk24h(watch);
  const silenced = watch.silencedUntil !== null && Date.parse(watch.silencedUntil) > props.now;
  const path = `/dashboard/watches/${encodeURIComponent(watch.id)}`;
  return (
    <Layout title={watch.label || shortHex(watch.account)} session={props.session} scripts={['/dashboard/vendor/uPlot.iife.min.js', '/dashboard/chart.js']} styles={['/dashboard/vendor/uPlot.min.css']}>
      <Notice text={props.notice?.text ?? null} kind={props.notice?.kind} />
      <section aria-labelledby="now-heading">
        <h2 id="now-heading">Now</h2>
        <dl class="facts">
          <dt>Level</dt>
          <dd>
            <LevelBadge level={watch.level} />
          </dd>
          <dt>Health factor</dt>
          <dd class="hf">{healthFactorText(position?.healthFactor ?? null, observedAt)}</dd>
          <dt>To liquidation</dt>
          <dd>{distanceText(position?.healthFactor ?? null)} price fall</dd>
          {risk !== null ? (
            <>
              <dt>24 h liquidation risk</dt>
              <dd>{percentText(risk)}</dd>
            </>
          ) : null}
          {position ? (
            <>
              <dt>Collateral</dt>
              <dd>{valueText(position.collateral, position.baseCurrency)}</dd>
              <dt>Debt</dt>
              <dd>{valueText(position.debt, position.baseCurrency)}</dd>
            </>
          ) : null}
          <dt>Last observed</dt>
          <dd>
            <Time at={observedAt} text={ageText(observedAt, props.now)} />
            {position ? <span class="sub">block {position.blockNumber}</span> : null}
          </dd>
          <dt>Monitor</dt>
          <dd>{watch.monitor?.status === 'degraded' ? `not seen since ${watch.monitor.since} (${watch.monitor.reason})` : watch.monitor ? 'seen on fresh blocks' : 'not read yet'}</dd>
          {watch.conditions.length > 0 ? (
            <>
              <dt>Conditions</dt>
              <dd>
                {watch.conditions.map((condition) => (
                  <span class="sub">
                    {condition.severity}: {condition.title} since block {condition.sinceBlock}
                  </span>
                ))}
              </dd>
            </>
          ) : null}
          {position?.subPositions && position.subPositions.length > 0 ? (
            <>
              <dt>Positions</dt>
              <dd>
                <ul class="positions" aria-label="The account's positions, each alerting on its own">
                  {position.subPositions.map((sub) => (
                    <li>
                      <LevelBadge level={sub.level ?? null} /> {shortHex(sub.id)} · health factor {sub.healthFactor ?? '∞ (no debt)'} · debt {valueText(sub.debt, position.baseCurrency)}
                    </li>
                  ))}
                </ul>
              </dd>
            </>
          ) : null}
          <dt>Position</dt>
          <dd>
            {watch.protocol} on chain {watch.chainId}
            <span class="sub target">account {watch.account}</span>
            <span class="sub target">market {watch.market}</span>
          </dd>
        </dl>
      </section>

      <section aria-labelledby="chart-heading">
        <h2 id="chart-heading">Health factor history</h2>
        <nav aria-label="History range" class="ranges">
          {(Object.keys(CHART_RANGES) as ChartRange[]).map((range) => (
            <a href={`${path}?range=${range}`} aria-current={range === props.range ? 'page' : undefined}>
              {range}
            </a>
          ))}
        </nav>
        <figure class="chart">
          <div
            id="hf-chart"
            role="img"
            aria-label={`Health factor over the last ${props.range}, with the warning (${watch.thresholds.warning}), margin call (${watch.thresholds.marginCall}), critical (${watch.thresholds.critical}) and liquidation (1.0) lines`}
            data-chart={JSON.stringify(props.chart)}
          ></div>
          <figcaption>
            {props.chart.times.length === 0
              ? 'No history recorded in this range yet.'
              : `${props.chart.times.length} points; lowest ${props.lowest ? `${props.lowest.healthFactor} at ${new Date(props.lowest.at).toISOString()}` : '∞ (no debt)'}. Lines: warning ${watch.thresholds.warning}, margin call ${watch.thresholds.marginCall}, critical ${watch.thresholds.critical}, liquidation 1.0.`}
          </figcaption>
        </figure>
      </section>

      <section aria-labelledby="silence-heading">
        <h2 id="silence-heading">Silence</h2>
        {silenced ? (
          <>
            <p id="silenced-until">
              Silenced until <Time at={watch.silencedUntil} text={watch.silencedUntil!} />: alerts are recorded but not sent.
            </p>
            <PostForm action={`${path}/unsilence`} csrfToken={props.session.csrfToken}>
              <button type="submit">Un-silence</button>
            </PostForm>
          </>
        ) : (
          <PostForm action={`${path}/silence`} csrfToken={props.session.csrfToken} class="inline">
            <label for="silence-for">Silence alerts for</label>
            <select id="silence-for" name="for">
              {Object.entries(SILENCE_CHOICES).map(([value, choice]) => (
                <option value={value}>{choice.text}</option>
              ))}
            </select>
            <button type="submit">Silence</button>
          </PostForm>
        )}
      </section>

      <TopUpSection watch={watch} />

      <section aria-labelledby="alerts-heading">
        <h2 id="alerts-heading">Alert log</h2>
        {props.events.length === 0 ? (
          <p>No alerts yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="alerts">
              <caption>Newest first, with each channel's delivery</caption>
              <HeaderRow columns={['When', 'Event', 'Deliveries']} />
              <tbody>
                {props.events.map((event) => (
                  <tr data-event-type={event.type}>
                    <td>
                      <Time at={event.createdAt} text={ageText(event.createdAt, props.now)} />
                    </td>
                    <td>
                      <strong>{event.type}</strong>
                      <span class="sub">{eventSummary(event.body)}</span>
                    </td>
                    <td>
                      {event.silenced ? (
                        'silenced: not sent'
                      ) : event.deliveries.length === 0 ? (
                        'no channel'
                      ) : (
                        <ul class="deliveries">
                          {event.deliveries.map((delivery) => (
                            <li class={`delivery delivery-${delivery.status}`}>
                              {props.channelLabels.get(delivery.channelId) || delivery.channelId}: {delivery.status}
                              {delivery.attempts > 1 ? ` after ${delivery.attempts} attempts` : ''}
                              {delivery.status !== 'delivered' && delivery.lastError ? <span class="sub">{delivery.lastError}</span> : null}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  );
}

function TopUpSection(props: { watch: WatchWithStatus }) {
  const policy = props.watch.topUp;
  const state = props.watch.topUpState;
  return (
    <section aria-labelledby="topup-heading">
      <h2 id="topup-heading">Auto-top-up</h2>
      {!policy ? (
        <p>No auto-top-up policy on this watch.</p>
      ) : (
        <>
          <p>
            {policy.enabled ? '' : 'Disabled. '}
            Below HF {policy.triggerHealthFactor}, {policy.mode} {policy.symbol} up to HF {policy.targetHealthFactor} (at most {policy.maxAmountPerAction} per action, {policy.maxAmountPerDay} per day, cooldown {policy.cooldownSeconds} s){policy.dryRun ? ' — dry run: nothing is sent' : ''}.
          </p>
          {state ? (
            <>
              <dl class="facts">
                <dt>Spent in 24 h</dt>
                <dd>
                  {state.spentLast24h} {policy.symbol} (remaining {state.remainingLast24h})
                </dd>
                <dt>Cooldown</dt>
                <dd>{state.cooldownUntil ? `until ${state.cooldownUntil}` : 'none'}</dd>
                <dt>In flight</dt>
                <dd>{state.inFlight ? 'yes' : 'no'}</dd>
                {state.lastFailure ? (
                  <>
                    <dt>Last failure</dt>
                    <dd>
                      {state.lastFailure.code}: {state.lastFailure.message}
                    </dd>
                  </>
                ) : null}
              </dl>
              {state.recent.length > 0 ? (
                <div class="table-wrap">
                  <table>
                    <caption>Recent actions</caption>
                    <HeaderRow columns={['When', 'Status', { text: 'Amount', numeric: true }, 'HF before → after']} />
                    <tbody>
                      {state.recent.map((action) => (
                        <tr>
                          <td>
                            <Time at={action.createdAt} text={action.createdAt} />
                          </td>
                          <td>
                            {action.status}
                            {action.dryRun ? ' (dry run)' : ''}
                            {action.txHash ? <span class="sub target">{action.txHash}</span> : null}
                          </td>
                          <td class="num">{action.amount}</td>
                          <td>
                            {action.healthFactorBefore ?? '—'} → {action.healthFactorAfter ?? '—'}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : null}
            </>
          ) : (
            <p>The executor's state is not available right now.</p>
          )}
        </>
      )}
    </section>
  );
}
