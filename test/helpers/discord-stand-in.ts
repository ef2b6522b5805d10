import { chars, isObject, json, parseJsonBody, startServiceStandIn, type ServiceStandIn, type ServiceVerdict, type StandInRequest, type StandInReply } from './service-stand-in';

/**
 * Discord's "Execute Webhook" (POST /api/webhooks/{id}/{token}) on loopback, with the rules
 * of https://discord.com/developers/docs/resources/webhook#execute-webhook and the embed
 * limits of https://discord.com/developers/docs/resources/message#embed-object-embed-limits:
 * JSON with content (≤ 2000) and/or embeds (≤ 10); per embed title ≤ 256, description ≤ 4096,
 * ≤ 25 fields (name ≤ 256, value ≤ 1024, both non-empty), footer text ≤ 2048, and ≤ 6000
 * characters across all embeds. Without ?wait=true it answers 204 No Content.
 */

const PATH = /^\/api\/(?:v\d{1,2}\/)?webhooks\/\d{17,20}\/[A-Za-z0-9_-]{60,100}(\?.*)?$/;

function invalidFormBody(problems: string[]): StandInReply {
  return json(400, { code: 50035, message: 'Invalid Form Body', errors: problems });
}

function embedProblems(embed: unknown, index: number): { problems: string[]; total: number } {
  if (!isObject(embed)) return { problems: [`embeds.${index}: must be an object`], total: 0 };
  const problems: string[] = [];
  let total = 0;
  const text = (value: unknown, path: string, max: number, required = false) => {
    if (value === undefined && !required) return;
    if (typeof value !== 'string' || (required && value.length === 0)) return problems.push(`${path}: must be a non-empty string`);
    if (chars(value) > max) problems.push(`${path}: must be ${max} or fewer in length`);
    total += chars(value);
  };
  text(embed.title, `embeds.${index}.title`, 256);
  text(embed.description, `embeds.${index}.description`, 4096);
  if (embed.footer !== undefined) text(isObject(embed.footer) ? embed.footer.text : undefined, `embeds.${index}.footer.text`, 2048, true);
  if (embed.color !== undefined && (!Number.isInteger(embed.color) || (embed.color as number) < 0 || (embed.color as number) > 0xffffff)) problems.push(`embeds.${index}.color: must be an integer colour`);
  if (embed.url !== undefined && (typeof embed.url !== 'string' || !/^https?:\/\//.test(embed.url))) problems.push(`embeds.${index}.url: not a well formed URL`);
  if (embed.fields !== undefined) {
    if (!Array.isArray(embed.fields) || embed.fields.length > 25) problems.push(`embeds.${index}.fields: must be 25 or fewer in length`);
    else embed.fields.forEach((field: unknown, at: number) => {
      text(isObject(field) ? field.name : undefined, `embeds.${index}.fields.${at}.name`, 256, true);
      text(isObject(field) ? field.value : undefined, `embeds.${index}.fields.${at}.value`, 1024, true);
    });
  }
  return { problems, total };
}

export function handleDiscord(request: StandInRequest): ServiceVerdict {
  if (!PATH.test(request.path)) return { refused: json(404, { message: '404: Not Found', code: 0 }) };
  if (request.method !== 'POST') return { refused: json(405, { message: '405: Method Not Allowed', code: 0 }) };
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return { refused: json(400, { code: 50109, message: 'The request body contains invalid JSON.' }) };
  const body = parseJsonBody(request.rawBody);
  if (!isObject(body)) return { refused: json(400, { code: 50109, message: 'The request body contains invalid JSON.' }) };
  const problems: string[] = [];
  if (body.content !== undefined && (typeof body.content !== 'string' || chars(body.content) > 2000)) problems.push('content: must be 2000 or fewer in length');
  let total = 0;
  if (body.embeds !== undefined) {
    if (!Array.isArray(body.embeds) || body.embeds.length > 10) problems.push('embeds: must be 10 or fewer in length');
    else body.embeds.forEach((embed: unknown, index: number) => {
      const checked = embedProblems(embed, index);
      problems.push(...checked.problems);
      total += checked.total;
    });
  }
  if (total > 6000) problems.push('embeds: the combined sum of characters in all embeds must be 6000 or fewer');
  if (problems.length > 0) return { refused: invalidFormBody(problems) };
  const hasContent = typeof body.content === 'string' && body.content.trim() !== '';
  const hasEmbeds = Array.isArray(body.embeds) && body.embeds.length > 0;
  if (!hasContent && !hasEmbeds) return { refused: json(400, { code: 50006, message: 'Cannot send an empty message' }) };
  return { accepted: request.path.includes('wait=true') ? json(200, { id: String(Date.now()), ...body }) : { status: 204 } };
}

export function startDiscordStandIn(): Promise<ServiceStandIn> {
  return startServiceStandIn(handleDiscord);
}
