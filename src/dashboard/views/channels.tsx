import type { ChannelRecord } from '../../watches/records';
import { HeaderRow, Layout, Notice, PostForm, Time, type Session } from './layout';

function targetOf(channel: ChannelRecord): string {
  return channel.url ?? channel.chatId ?? channel.to ?? '';
}

export function ChannelsPage(props: { session: Session; channels: ChannelRecord[]; notice: { text: string; kind: 'ok' | 'error' } | null }) {
  return (
    <Layout title="Channels" session={props.session}>
      <Notice text={props.notice?.text ?? null} kind={props.notice?.kind} />
      {props.channels.length === 0 ? (
        <p>No channels yet. Create one with <code>POST /v1/channels</code>.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>Where alerts go</caption>
            <HeaderRow columns={['Channel', 'Type', 'Target', 'Status', 'Test']} />
            <tbody>
              {props.channels.map((channel) => {
                const usable = channel.disabledAt === null && channel.status === 'active';
                return (
                  <tr data-channel-id={channel.id}>
                    <th scope="row">
                      {channel.label || channel.id}
                      <span class="sub">{channel.id}</span>
                    </th>
                    <td>{channel.type}</td>
                    <td class="target">{targetOf(channel)}</td>
                    <td>
                      {channel.disabledAt ? (
                        <>
                          Disabled <Time at={channel.disabledAt} text="" />
                          <span class="sub">{channel.disabledReason}</span>
                        </>
                      ) : channel.status === 'pending_confirmation' ? (
                        'Waiting for confirmation'
                      ) : (
                        'Active'
                      )}
                    </td>
                    <td>
                      {usable ? (
                        <PostForm action={`/dashboard/channels/${encodeURIComponent(channel.id)}/test`} csrfToken={props.session.csrfToken}>
                          <button type="submit" aria-label={`Send a test to ${channel.label || channel.id}`}>
                            Send test
                          </button>
                        </PostForm>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
