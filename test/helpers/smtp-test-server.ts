import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 for tests (the `smtp-server` package): AUTH PLAIN/LOGIN
 * checked against a user and password, every accepted message recorded raw and parsed,
 * and replies that tests can script per recipient ("451 then 250", "550", "never answer").
 * A small HTTP control API lets tests inside workerd, which cannot reach Node objects,
 * script it and read what arrived. Test-only; never part of the product.
 */

export type Stage = 'mail' | 'rcpt' | 'data';
export type ScriptedReply = { stage: Stage; to?: string; code: number; message: string; times: number; hang: boolean };

export type ParsedPart = { contentType: string; charset: string | undefined; transferEncoding: string | undefined; body: string };
export type ReceivedMessage = {
  id: number;
  /** False when a scripted reply refused it at the end of DATA: the attempt is kept, to compare retries. */
  accepted: boolean;
  receivedAt: string;
  mailFrom: string | null;
  rcptTo: string[];
  secure: boolean;
  authUser: string | null;
  raw: string;
  /** Header names lower-cased; values unfolded and RFC 2047-decoded. */
  headers: Record<string, string>;
  /** Raw header lines as sent (unfolded, not decoded), in order. */
  rawHeaders: string[];
  contentType: string;
  parts: ParsedPart[];
};
export type SessionRecord = { id: string; secure: boolean; auth: Array<{ method: string; username: string | null; ok: boolean }>; mailFrom: string | null; closed: boolean };

export type SmtpTestServerOptions = {
  user: string;
  password: string;
  /**
   * "none": plain text, no STARTTLS offered; "starttls": offers STARTTLS (with smtp-server's
   * self-signed certificate unless key/cert are given); "tls": TLS from the first byte
   * (port 465 style; needs key/cert).
   */
  security?: 'none' | 'starttls' | 'tls';
  key?: string;
  cert?: string;
};

export type SmtpTestServer = {
  host: string;
  port: number;
  controlUrl: string;
  messages: ReceivedMessage[];
  sessions: SessionRecord[];
  script(reply: Partial<ScriptedReply> & { stage: Stage; code?: number }): void;
  setPassword(password: string): void;
  reset(): void;
  stop(): Promise<void>;
};

export async function startSmtpTestServer(options: SmtpTestServerOptions): Promise<SmtpTestServer> {
  const messages: ReceivedMessage[] = [];
  const sessions: SessionRecord[] = [];
  const scripts: ScriptedReply[] = [];
  let password = options.password;
  let nextId = 1;

  const sessionRecord = (session: SMTPServerSession): SessionRecord => {
    let record = sessions.find((entry) => entry.id === session.id);
    if (!record) {
      record = { id: session.id, secure: session.secure, auth: [], mailFrom: null, closed: false };
      sessions.push(record);
    }
    record.secure = session.secure;
    return record;
  };

  /** Takes the first scripted reply for this stage and (for rcpt/data) one of these recipients. */
  const takeScript = (stage: Stage, recipients: string[]): ScriptedReply | undefined => {
    const index = scripts.findIndex((entry) => entry.stage === stage && (entry.to === undefined || recipients.includes(entry.to.toLowerCase())));
    if (index < 0) return undefined;
    const entry = scripts[index]!;
    entry.times -= 1;
    if (entry.times <= 0) scripts.splice(index, 1);
    return entry;
  };

  const replyError = (entry: ScriptedReply) => Object.assign(new Error(entry.message), { responseCode: entry.code });

  const serverOptions: SMTPServerOptions = {
    name: 'smtp-test.marginwatch.test',
    banner: 'marginwatch test SMTP',
    authMethods: ['PLAIN', 'LOGIN'],
    // Plain-text AUTH is allowed here: the client under test must be the one that refuses it.
    allowInsecureAuth: true,
    secure: options.security === 'tls',
    disabledCommands: options.security === 'starttls' ? [] : ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 1024 * 1024,
    ...(options.key && options.cert ? { key: options.key, cert: options.cert } : {}),
    onConnect(session, callback) {
      sessionRecord(session);
      callback();
    },
    onAuth(auth, session, callback) {
      const ok = auth.username === options.user && auth.password === password;
      // The attempt is recorded, never the password that was tried.
      sessionRecord(session).auth.push({ method: auth.method, username: auth.username ?? null, ok });
      if (!ok) return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      callback(null, { user: auth.username });
    },
    onMailFrom(address, session, callback) {
      sessionRecord(session).mailFrom = address.address;
      const entry = takeScript('mail', []);
      if (entry?.hang) return;
      callback(entry ? replyError(entry) : null);
    },
    onRcptTo(address, _session, callback) {
      const entry = takeScript('rcpt', [address.address.toLowerCase()]);
      if (entry?.hang) return;
      callback(entry ? replyError(entry) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const recipients = session.envelope.rcptTo.map((entry) => entry.address.toLowerCase());
        const entry = takeScript('data', recipients);
        if (entry?.hang) return;
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          id: nextId++,
          accepted: !entry,
          receivedAt: new Date().toISOString(),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          secure: session.secure,
          authUser: typeof session.user === 'string' ? session.user : null,
          raw,
          ...parseMessage(raw),
        });
        if (entry) return callback(replyError(entry));
        callback(null, 'Message queued');
      });
    },
    onClose(session) {
      const record = sessions.find((entry) => entry.id === session.id);
      if (record) record.closed = true;
    },
  };
  const smtp = new SMTPServer(serverOptions);
  smtp.on('error', () => undefined); // a client dropping the connection is not a test failure
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const port = (smtp.server.address() as AddressInfo).port;

  const api: SmtpTestServer = {
    host: '127.0.0.1',
    port,
    controlUrl: '',
    messages,
    sessions,
    script(reply) {
      scripts.push({ stage: reply.stage, to: reply.to?.toLowerCase(), code: reply.code ?? 451, message: reply.message ?? 'scripted reply', times: reply.times ?? 1, hang: reply.hang ?? false });
    },
    setPassword(value) {
      password = value;
    },
    reset() {
      messages.length = 0;
      sessions.length = 0;
      scripts.length = 0;
      password = options.password;
    },
    async stop() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };

  const routes: Record<string, (body: Record<string, unknown>, query: URLSearchParams) => unknown> = {
    // Accepted messages only, unless ?all=1 (then refused attempts too); ?to= filters by recipient.
    'GET /messages': (_body, query) => {
      const to = query.get('to')?.toLowerCase();
      return messages.filter((message) => (query.get('all') === '1' || message.accepted) && (!to || message.rcptTo.some((rcpt) => rcpt.toLowerCase() === to)));
    },
    'GET /sessions': () => sessions,
    'POST /script': (body) => {
      api.script(body as Partial<ScriptedReply> & { stage: Stage });
      return { ok: true };
    },
    'POST /password': (body) => {
      api.setPassword(String(body.password));
      return { ok: true };
    },
    'POST /reset': () => {
      api.reset();
      return { ok: true };
    },
  };
  const http = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://control');
    const handler = routes[`${request.method} ${url.pathname}`];
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify(value));
    };
    if (!handler) return reply(404, { error: 'no such SMTP control route' });
    readJson(request)
      .then((body) => reply(200, handler(body, url.searchParams)))
      .catch((error: unknown) => reply(500, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  api.controlUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return api;
}

/**
 * A server that greets, answers EHLO, and then hangs up on the next command without a
 * word: what a crashing or overloaded server does, and the case where a naive client
 * keeps reading a closed stream forever.
 */
export async function startHangUpServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const server: NetServer = createNetServer((socket) => {
    socket.write('220 hang-up.test ESMTP\r\n');
    socket.on('data', (data) => {
      if (/^(EHLO|HELO)/i.test(data.toString('utf8'))) socket.write('250 hang-up.test\r\n');
      else socket.end();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

// ── A minimal MIME reader, enough to check what the worker sent ─────────────

type Entity = { headers: Record<string, string>; rawHeaders: string[]; body: string };

function splitEntity(text: string): Entity {
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end).replace(/^\r?\n\r?\n/, '');
  const rawHeaders = head.split(/\r?\n(?![ \t])/).map((line) => line.replace(/\r?\n[ \t]/g, ' '));
  const headers: Record<string, string> = {};
  for (const line of rawHeaders) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = decodeEncodedWords(line.slice(colon + 1).trim());
  }
  return { headers, rawHeaders, body };
}

/** RFC 2047: =?charset?Q|B?text?= words; whitespace between adjacent words disappears. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?[^?]+\?[QqBb]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset: string, encoding: string, text: string) => {
      if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes: number[] = [];
      for (let index = 0; index < text.length; index += 1) {
        const char = text[index]!;
        if (char === '_') bytes.push(0x20);
        else if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(index + 1, index + 3))) {
          bytes.push(parseInt(text.slice(index + 1, index + 3), 16));
          index += 2;
        } else bytes.push(char.charCodeAt(0));
      }
      return Buffer.from(bytes).toString('utf8');
    });
}

function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < joined.length; index += 1) {
    const char = joined[index]!;
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(index + 1, index + 3))) {
      bytes.push(parseInt(joined.slice(index + 1, index + 3), 16));
      index += 2;
    } else bytes.push(...Buffer.from(char, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function parameter(headerValue: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="?([^";]+)"?`, 'i').exec(headerValue);
  return match?.[1];
}

function leaves(entity: Entity): ParsedPart[] {
  const contentType = entity.headers['content-type'] ?? 'text/plain';
  if (/^multipart\//i.test(contentType)) {
    const boundary = parameter(contentType, 'boundary');
    if (!boundary) return [];
    const sections = entity.body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?\\r?\\n?`));
    return sections
      .filter((section) => section.trim() !== '')
      .flatMap((section) => leaves(splitEntity(section)));
  }
  const transferEncoding = entity.headers['content-transfer-encoding']?.toLowerCase();
  let body = entity.body;
  if (transferEncoding === 'quoted-printable') body = decodeQuotedPrintable(body);
  else if (transferEncoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return [{ contentType: contentType.split(';')[0]!.trim().toLowerCase(), charset: parameter(contentType, 'charset'), transferEncoding, body }];
}

export function parseMessage(raw: string): Pick<ReceivedMessage, 'headers' | 'rawHeaders' | 'contentType' | 'parts'> {
  const entity = splitEntity(raw);
  return { headers: entity.headers, rawHeaders: entity.rawHeaders, contentType: entity.headers['content-type'] ?? 'text/plain', parts: leaves(entity) };
}
