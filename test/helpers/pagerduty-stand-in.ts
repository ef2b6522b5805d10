import { chars, isObject, json, parseJsonBody, startServiceStandIn, type ServiceStandIn, type ServiceVerdict, type StandInRequest, type StandInReply } from './service-stand-in';

/**
 * PagerDuty's Events API v2 on loopback, with the rules of
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (and resolve, and change
 * events at /v2/change/enqueue): JSON; routing_key of 32 characters; event_action trigger,
 * acknowledge or resolve; dedup_key ≤ 255 (required to acknowledge or resolve); a trigger's
 * payload with summary (1-1024), source and severity (critical, error, warning, info).
 * Well-formed events get 202 {status: "success", message, dedup_key}; others 400
 * {status: "invalid event", message, errors}. It keeps the incidents by dedup_key, as
 * PagerDuty does, at `GET /__control/incidents`.
 */

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

type Incident = { dedupKey: string; status: 'triggered' | 'acknowledged' | 'resolved'; severity: string; summaries: string[]; actions: string[] };

const invalid = (errors: string[]): StandInReply => json(400, { status: 'invalid event', message: 'Event object is invalid', errors });

function alertProblems(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (typeof body.routing_key !== 'string' || body.routing_key.length !== 32) errors.push("'routing_key' must be 32 characters");
  if (!ACTIONS.includes(String(body.event_action))) errors.push("'event_action' must be one of trigger, acknowledge, resolve");
  if (body.dedup_key !== undefined && (typeof body.dedup_key !== 'string' || chars(body.dedup_key) > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if (body.event_action !== 'trigger' && typeof body.dedup_key !== 'string') errors.push("'dedup_key' is required to acknowledge or resolve");
  if (body.event_action === 'trigger') {
    const payload = body.payload;
    if (!isObject(payload)) errors.push("'payload' is required to trigger");
    else {
      if (typeof payload.summary !== 'string' || payload.summary.length === 0 || chars(payload.summary) > 1024) errors.push("'payload.summary' must be 1-1024 characters");
      if (typeof payload.source !== 'string' || payload.source.length === 0) errors.push("'payload.source' is required");
      if (!SEVERITIES.includes(String(payload.severity))) errors.push("'payload.severity' must be one of critical, error, warning, info");
      if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp)))) errors.push("'payload.timestamp' must be an ISO 8601 time");
    }
  }
  if (body.links !== undefined && (!Array.isArray(body.links) || body.links.some((link) => !isObject(link) || typeof link.href !== 'string'))) errors.push("'links' must be objects with href");
  return errors;
}

function changeProblems(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (typeof body.routing_key !== 'string' || body.routing_key.length !== 32) errors.push("'routing_key' must be 32 characters");
  const payload = body.payload;
  if (!isObject(payload) || typeof payload.summary !== 'string' || payload.summary.length === 0 || chars(payload.summary) > 1024) errors.push("'payload.summary' must be 1-1024 characters");
  return errors;
}

export function pagerDutyHandler(incidents: Map<string, Incident>) {
  return (request: StandInRequest): ServiceVerdict => {
    const path = request.path.split('?')[0];
    if (path !== '/v2/enqueue' && path !== '/v2/change/enqueue') return { refused: json(404, { status: 'not found' }) };
    if (request.method !== 'POST') return { refused: json(405, { status: 'method not allowed' }) };
    const body = (request.headers['content-type'] ?? '').startsWith('application/json') ? parseJsonBody(request.rawBody) : undefined;
    if (!isObject(body)) return { refused: invalid(['the body must be a JSON object']) };
    if (path === '/v2/change/enqueue') {
      const errors = changeProblems(body);
      return errors.length > 0 ? { refused: invalid(errors) } : { accepted: json(202, { status: 'success', message: 'Change event processed' }) };
    }
    const errors = alertProblems(body);
    if (errors.length > 0) return { refused: invalid(errors) };
    const dedupKey = typeof body.dedup_key === 'string' ? body.dedup_key : Math.random().toString(16).slice(2);
    const action = String(body.event_action);
    const commit = () => {
      const incident = incidents.get(dedupKey);
      // PagerDuty drops an acknowledge or resolve for a key without an open incident; it still answers 202.
      if (action === 'trigger') {
        const payload = body.payload as { summary: string; severity: string };
        if (incident && incident.status !== 'resolved') {
          incident.severity = payload.severity;
          incident.summaries.push(payload.summary);
          incident.actions.push(action);
        } else {
          incidents.set(dedupKey, { dedupKey, status: 'triggered', severity: payload.severity, summaries: [payload.summary], actions: [action] });
        }
      } else if (incident && incident.status !== 'resolved') {
        incident.status = action === 'resolve' ? 'resolved' : 'acknowledged';
        incident.actions.push(action);
      }
    };
    return { accepted: json(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey }), commit };
  };
}

export function startPagerDutyStandIn(): Promise<ServiceStandIn> {
  const incidents = new Map<string, Incident>();
  return startServiceStandIn(pagerDutyHandler(incidents), { 'GET /__control/incidents': () => [...incidents.values()] });
}
