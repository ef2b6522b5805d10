import type { WatchGlance } from '../../watches/records';
import type { WatchView } from '../../watches/service';
import { ageText, distanceText, healthFactorText, levelClass, levelName, percentText, shortHex } from '../present';
import { HeaderRow, Layout, Time, type Session } from './layout';

export type WatchRow = WatchView & WatchGlance;

export function LevelBadge(props: { level: string | null }) {
  return <span class={`badge ${levelClass(props.level)}`}>{levelName(props.level)}</span>;
}

/** Watches, most at risk first (the caller sorts); the 24 h risk column only when some watch has it. */
export function WatchesPage(props: { session: Session; watches: WatchRow[]; truncated: boolean; now: number }) {
  const withRisk = props.watches.some((watch) => watch.liquidationProbability24h !== null);
  return (
    <Layout title="Watches" session={props.session}>
      {props.watches.length === 0 ? (
        <p>No watches yet. Create one with <code>POST /v1/watches</code>.</p>
      ) : (
        <div class="table-wrap">
          <table class="watches">
            <caption>Your watches, lowest health factor first</caption>
            <HeaderRow
              columns={[
                'Watch',
                'Level',
                'Protocol',
                { text: 'Health factor', numeric: true },
                { text: 'To liquidation', numeric: true },
                ...(withRisk ? [{ text: '24 h risk', numeric: true as const }] : []),
                'Last observed',
              ]}
            />
            <tbody>
              {props.watches.map((watch) => {
                const risk = watch.liquidationProbability24h;
                return (
                  <tr class={levelClass(watch.level)} data-watch-id={watch.id}>
                    <th scope="row">
                      <a href={`/dashboard/watches/${encodeURIComponent(watch.id)}`}>{watch.label || shortHex(watch.account)}</a>
                      <span class="sub">{shortHex(watch.account)}</span>
                      {watch.silencedUntil && Date.parse(watch.silencedUntil) > props.now ? <span class="sub">silenced</span> : null}
                    </th>
                    <td>
                      <LevelBadge level={watch.level} />
                      {watch.monitor === 'degraded' ? <span class="sub">not seen lately</span> : null}
                    </td>
                    <td>
                      {watch.protocol}
                      <span class="sub">chain {watch.chainId}</span>
                    </td>
                    <td class="num hf">{healthFactorText(watch.healthFactor, watch.observedAt)}</td>
                    <td class="num">{distanceText(watch.healthFactor)}</td>
                    {withRisk ? <td class="num">{risk === null ? '—' : percentText(risk)}</td> : null}
                    <td>
                      <Time at={watch.observedAt} text={ageText(watch.observedAt, props.now)} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {props.truncated ? <p class="sub">Only the first {props.watches.length} watches are shown; the API lists all of them.</p> : null}
    </Layout>
  );
}
