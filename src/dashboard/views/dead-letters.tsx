import type { DeliveryRecord } from '../../watches/records';
import { HeaderRow, Layout, type Session } from './layout';

/** Deliveries given up on (after the last retry, a disabled or deleted channel). */
export function DeadLettersPage(props: { session: Session; deliveries: DeliveryRecord[]; channelLabels: Map<string, string>; limit: number }) {
  return (
    <Layout title="Dead letters" session={props.session}>
      {props.deliveries.length === 0 ? (
        <p>No dead letters: every event reached its channels or is still being retried.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>Events given up on, newest first{props.deliveries.length === props.limit ? ` (the latest ${props.limit})` : ''}</caption>
            <HeaderRow columns={['Event', 'Channel', { text: 'Attempts', numeric: true }, 'Last error']} />
            <tbody>
              {props.deliveries.map((delivery) => (
                <tr>
                  <td class="target">{delivery.eventId}</td>
                  <td>{props.channelLabels.get(delivery.channelId) || delivery.channelId}</td>
                  <td class="num">{delivery.attempts}</td>
                  <td>{delivery.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
