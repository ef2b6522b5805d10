import { redactUrlsInText } from '../lib/redact-text';
import { parseRetryAfter } from './backoff';
import type { SendOutcome } from './channel';
import { describeFetchError, readExcerpt, DEFAULT_WEBHOOK_TIMEOUT_MS, WEBHOOK_USER_AGENT } from './webhook-sender';
import { withTimeout } from '../lib/timeout';

/**
 * The HTTP edge shared by the hosted-service channels (Discord, Slack, ntfy, PagerDuty):
 * one JSON POST, its answer as a value. What an answer means is each service's own rule
 * (see the `classify…` functions beside each sender); the rules they share are here.
 */

export type HttpResponseAnswer = { kind: 'answer'; status: number; retryAfterMs: number | undefined; /** the first ~200 characters of the body */ text: string };
export type HttpAnswer = HttpResponseAnswer | { kind: 'network'; reason: string };

export async function postJson(url: string, body: unknown, options: { headers?: Record<string, string>; timeoutMs?: number; now?: () => number } = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  return withTimeout(timeoutMs, async (signal) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': WEBHOOK_USER_AGENT, ...options.headers },
        body: JSON.stringify(body),
        // These services answer directly; a redirect is not theirs to send us elsewhere with a credential.
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      // The URL of a Discord or Slack webhook is its credential: never let it reach a reason.
      return { kind: 'network', reason: redactUrlsInText(describeFetchError(error, timeoutMs)) };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (options.now ?? Date.now)());
    return { kind: 'answer', status: response.status, retryAfterMs, text: await readExcerpt(response) };
  });
}

/**
 * The rules every service shares: a network failure retried; 2xx delivered; 429 and 5xx
 * retried (not before Retry-After); 3xx retried (redirects are not followed). A 4xx answer
 * comes back as it is: what it means is the service's own rule.
 */
export function commonOutcome(service: string, answer: HttpAnswer): SendOutcome | HttpResponseAnswer {
  if (answer.kind === 'network') return { kind: 'retry', reason: `${service}: ${answer.reason}` };
  const { status } = answer;
  if (status >= 300 && status < 400) return { kind: 'retry', status, reason: `${answerText(service, answer)}; redirects are not followed` };
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 429 || status >= 500 || status < 200) {
    const reason = answerText(service, answer);
    return answer.retryAfterMs === undefined ? { kind: 'retry', status, reason } : { kind: 'retry', status, retryAfterMs: answer.retryAfterMs, reason };
  }
  return answer;
}

/** What a service said, for a reason: "Slack answered HTTP 404: no_service". */
export function answerText(service: string, answer: HttpResponseAnswer): string {
  return `${service} answered HTTP ${answer.status}${answer.text ? `: ${answer.text}` : ''}`;
}
