import { redactUrl } from '../chain/redact';

/**
 * Unknown errors can quote a URL that carries an API key (an RPC endpoint); before such a
 * message reaches a log, every URL in it is cut down to its origin.
 */
export function redactUrlsInText(text: string): string {
  // Punctuation right after a URL ("http://node:8545: unreachable") belongs to the sentence.
  return text.replace(/\bhttps?:\/\/[^\s"'<>)]+/gi, (match) => {
    const url = match.replace(/[.,;:!?]+$/, '');
    return redactUrl(url) + match.slice(url.length);
  });
}
