import { isObject, json, parseJsonBody, startServiceStandIn, type ServiceStandIn, type ServiceVerdict, type StandInRequest, type StandInReply } from './service-stand-in';

/**
 * An ntfy server on loopback, with the rules of https://docs.ntfy.sh/publish/:
 * - JSON publishing: POST / with {topic, message?, title?, priority? (1-5), tags? (strings), click? (URL), …};
 * - plain publishing: POST /<topic> with the message as the body and the Title, Priority
 *   (1-5 or min/low/default/high/max/urgent) and Tags headers;
 * topic names 1-64 of [-_A-Za-z0-9]; a message of at most 4096 bytes (this server has
 * attachments off, so more is 413). Topics protected through `POST /__control/protect`
 * {topic, token} need `Authorization: Bearer <token>`: none is 403, a wrong one 401, as ntfy's
 * access control answers. Success is 200 with the message as JSON.
 */

const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;
const PRIORITY_NAMES: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 };
const KNOWN_FIELDS = new Set(['topic', 'message', 'title', 'priority', 'tags', 'click', 'markdown', 'actions', 'attach', 'filename', 'icon', 'delay', 'email', 'call']);

const error = (http: number, code: number, text: string): StandInReply => json(http, { code, http, error: text, link: 'https://ntfy.sh/docs/publish/' });

type Message = { topic: string; message: string; title?: string; priority: number; tags: string[]; click?: string };

function fromJson(rawBody: string): Message | StandInReply {
  const body = parseJsonBody(rawBody);
  if (!isObject(body)) return error(400, 40017, 'invalid request: request body must be message JSON');
  const unknown = Object.keys(body).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) return error(400, 40017, `invalid request: unknown field ${unknown[0]}`);
  if (typeof body.topic !== 'string' || !TOPIC.test(body.topic)) return error(400, 40009, 'invalid request: topic invalid');
  if (body.message !== undefined && typeof body.message !== 'string') return error(400, 40017, 'invalid request: message must be a string');
  if (body.title !== undefined && typeof body.title !== 'string') return error(400, 40017, 'invalid request: title must be a string');
  if (body.priority !== undefined && (!Number.isInteger(body.priority) || (body.priority as number) < 1 || (body.priority as number) > 5)) return error(400, 40007, 'invalid request: priority invalid');
  if (body.tags !== undefined && (!Array.isArray(body.tags) || body.tags.some((tag) => typeof tag !== 'string'))) return error(400, 40017, 'invalid request: tags must be strings');
  if (body.click !== undefined && (typeof body.click !== 'string' || !/^https?:\/\//.test(body.click))) return error(400, 40017, 'invalid request: click must be a URL');
  return { topic: body.topic, message: (body.message as string | undefined) ?? 'triggered', ...(body.title ? { title: body.title as string } : {}), priority: (body.priority as number | undefined) ?? 3, tags: (body.tags as string[] | undefined) ?? [], ...(body.click ? { click: body.click as string } : {}) };
}

function fromPlain(request: StandInRequest, topic: string): Message | StandInReply {
  const priorityHeader = request.headers.priority ?? request.headers['x-priority'];
  const priority = priorityHeader === undefined ? 3 : (PRIORITY_NAMES[priorityHeader] ?? Number(priorityHeader));
  if (!Number.isInteger(priority) || priority < 1 || priority > 5) return error(400, 40007, 'invalid request: priority invalid');
  const title = request.headers.title ?? request.headers['x-title'];
  const tags = (request.headers.tags ?? request.headers['x-tags'] ?? '').split(',').map((tag) => tag.trim()).filter(Boolean);
  return { topic, message: request.rawBody || 'triggered', ...(title ? { title } : {}), priority, tags };
}

export function ntfyHandler(protectedTopics: Map<string, string>) {
  return (request: StandInRequest): ServiceVerdict => {
    if (request.method !== 'POST' && request.method !== 'PUT') return { refused: error(405, 40501, 'method not allowed') };
    const path = request.path.split('?')[0]!;
    const plainTopic = path.slice(1);
    if (path !== '/' && !TOPIC.test(plainTopic)) return { refused: error(404, 40401, 'page not found') };
    const message = path === '/' ? fromJson(request.rawBody) : fromPlain(request, plainTopic);
    if ('status' in message) return { refused: message };
    if (Buffer.byteLength(message.message, 'utf8') > 4096) return { refused: error(413, 41301, 'too large: message too large, and attachments are not allowed') };
    const token = protectedTopics.get(message.topic);
    if (token !== undefined) {
      const sent = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (sent === undefined) return { refused: error(403, 40301, 'forbidden') };
      if (sent !== token) return { refused: error(401, 40101, 'unauthorized') };
    }
    return { accepted: json(200, { id: Math.random().toString(36).slice(2, 14), time: Math.floor(Date.now() / 1000), event: 'message', ...message }) };
  };
}

export function startNtfyStandIn(): Promise<ServiceStandIn> {
  const protectedTopics = new Map<string, string>();
  return startServiceStandIn(ntfyHandler(protectedTopics), {
    'POST /__control/protect': (body) => {
      protectedTopics.set(String(body.topic), String(body.token));
      return { ok: true };
    },
  });
}
