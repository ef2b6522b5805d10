import { chars, isObject, parseJsonBody, startServiceStandIn, type ServiceStandIn, type ServiceVerdict, type StandInRequest, type StandInReply } from './service-stand-in';

/**
 * A Slack incoming webhook (POST /services/T…/B…/…) on loopback, with the rules of
 * https://api.slack.com/messaging/webhooks and the Block Kit limits
 * (https://api.slack.com/reference/block-kit/blocks): a JSON body with `text` and/or `blocks`
 * (≤ 50); a header's plain_text ≤ 150, a section's text ≤ 3000 or ≤ 10 fields of ≤ 2000, a
 * context ≤ 10 elements. Answers are bare codes as text: 200 "ok", 400 "invalid_payload",
 * "no_text" or "invalid_blocks".
 */

const PATH = /^\/services\/T[A-Z0-9]{6,15}\/B[A-Z0-9]{6,15}\/[A-Za-z0-9]{16,64}$/;

function text(status: number, body: string): StandInReply {
  return { status, headers: { 'content-type': 'text/html' }, body };
}

function textObjectProblem(value: unknown, max: number, types: string[]): string | null {
  if (!isObject(value) || !types.includes(String(value.type)) || typeof value.text !== 'string' || value.text.length === 0) return `a text object of type ${types.join(' or ')} with non-empty text`;
  return chars(value.text) > max ? `text longer than ${max}` : null;
}

function blockProblem(block: unknown): string | null {
  if (!isObject(block)) return 'a block must be an object';
  switch (block.type) {
    case 'header':
      return textObjectProblem(block.text, 150, ['plain_text']);
    case 'section': {
      if (block.text === undefined && block.fields === undefined) return 'a section needs text or fields';
      if (block.text !== undefined) {
        const problem = textObjectProblem(block.text, 3000, ['plain_text', 'mrkdwn']);
        if (problem) return problem;
      }
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length > 10) return 'at most 10 fields';
        for (const field of block.fields) {
          const problem = textObjectProblem(field, 2000, ['plain_text', 'mrkdwn']);
          if (problem) return problem;
        }
      }
      return null;
    }
    case 'context':
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) return 'a context needs 1 to 10 elements';
      for (const element of block.elements) {
        const problem = textObjectProblem(element, 3000, ['plain_text', 'mrkdwn']);
        if (problem) return problem;
      }
      return null;
    case 'divider':
      return null;
    default:
      return `unknown block type ${String(block.type)}`;
  }
}

export function handleSlack(request: StandInRequest): ServiceVerdict {
  if (!PATH.test(request.path)) return { refused: text(404, 'no_service') };
  if (request.method !== 'POST') return { refused: text(405, 'invalid_request') };
  const body = (request.headers['content-type'] ?? '').startsWith('application/json') ? parseJsonBody(request.rawBody) : undefined;
  if (!isObject(body)) return { refused: text(400, 'invalid_payload') };
  const hasText = typeof body.text === 'string' && body.text.trim() !== '';
  if (body.blocks !== undefined) {
    if (!Array.isArray(body.blocks) || body.blocks.length > 50) return { refused: text(400, 'invalid_blocks') };
    if (body.blocks.some((block: unknown) => blockProblem(block) !== null)) return { refused: text(400, 'invalid_blocks') };
  }
  if (!hasText && !(Array.isArray(body.blocks) && body.blocks.length > 0)) return { refused: text(400, 'no_text') };
  return { accepted: text(200, 'ok') };
}

export function startSlackStandIn(): Promise<ServiceStandIn> {
  return startServiceStandIn(handleSlack);
}
