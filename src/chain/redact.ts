/**
 * RPC URLs often carry an API key in the path or query (".../v2/<key>"). Anything that
 * may reach a log, an error or a response names an endpoint by its origin only.
 */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const hasMore = url.pathname.length > 1 || url.search.length > 0;
    return `${url.protocol}//${url.host}${hasMore ? '/…' : ''}`;
  } catch {
    return '<invalid url>';
  }
}
