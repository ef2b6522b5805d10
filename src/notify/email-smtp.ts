import { LogLevel, WorkerMailer, type EmailOptions, type WorkerMailerOptions } from 'worker-mailer';
import type { SmtpConfig } from '../config/env';
import type { SendOutcome } from './channel';

/**
 * One email over SMTP (Workers TCP sockets, via worker-mailer), as a SendOutcome:
 * - the server accepted the message (2xx after DATA) → delivered;
 * - 4xx replies, connection errors, timeouts → retry through the outbox;
 * - 5xx to MAIL FROM, RCPT TO or DATA → failed: this message will not be accepted, the
 *   server's reply becomes the dead letter's lastError;
 * - failures of the session itself (greeting, EHLO, STARTTLS, AUTH — including a 535
 *   "bad credentials") → retry: they are the deployment's to fix (host, port, security,
 *   SMTP_USER/SMTP_PASSWORD), and the waiting alerts go out once they are fixed instead
 *   of being dead-lettered one by one.
 *
 * worker-mailer 1.2 is used with three guards, added on the instance (see `harden`):
 * - SMTP_SECURITY=starttls *requires* STARTTLS: worker-mailer silently stays in plain
 *   text when the server does not offer it, which would send AUTH (and the message) in
 *   the clear to anyone able to strip the capability; we refuse before AUTH instead.
 * - SMTP_SECURITY=none never authenticates unless SMTP_ALLOW_INSECURE_AUTH is set.
 * - a connection the server closes while we wait for a reply is an error: worker-mailer's
 *   read loop would otherwise spin forever on the closed stream and pin the Durable
 *   Object's CPU.
 * Its logger is off: at DEBUG it prints the AUTH exchange (the base64 password).
 */

/** Whole-attempt ceiling on top of worker-mailer's per-reply timeouts: an attempt never hangs the outbox. */
const ATTEMPT_TIMEOUT_FACTOR = 3;
const MAX_REASON_CHARS = 300;

type SmtpSocket = { close(): Promise<void> };
type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array }>; releaseLock(): void };

/** The private parts of worker-mailer 1.2's WorkerMailer that the guards hook into. */
type MailerInternals = {
  socket: SmtpSocket;
  reader: Reader;
  allowAuth: boolean;
  initializeSmtpSession(): Promise<void>;
  start(): Promise<void>;
  tls(): Promise<void>;
  auth(): Promise<void>;
  send(options: EmailOptions): Promise<void>;
  close(error?: Error): Promise<void>;
};
type MailerConstructor = new (options: WorkerMailerOptions) => MailerInternals;

/**
 * How far TLS got, for the reason of a failure: workerd reports a failed handshake as an
 * opaque "internal error", so a failure between starting TLS and the first encrypted
 * reply is named a TLS failure here.
 */
type TlsState = { phase: 'plain' | 'handshake' | 'up'; /** any byte from the server yet (the greeting) */ heard: boolean };

/** A refusal of ours (not the server's): always a retry, with a reason that names the setting. */
class SmtpPolicyError extends Error {
  override readonly name = 'SmtpPolicyError';
}

/** The whole attempt ran past its deadline. */
class SmtpTimeout extends Error {
  override readonly name = 'SmtpTimeout';
}

/** The server closed the connection while a reply was awaited. */
class SmtpConnectionClosed extends Error {
  override readonly name = 'SmtpConnectionClosed';
}

export async function sendSmtp(config: SmtpConfig, message: EmailOptions): Promise<SendOutcome> {
  const secrets = secretForms(config);
  const tls: TlsState = { phase: config.security === 'tls' ? 'handshake' : 'plain', heard: false };
  let mailer: MailerInternals | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadlineMs = config.timeoutMs * ATTEMPT_TIMEOUT_FACTOR;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new SmtpTimeout(`no answer within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    await Promise.race([
      (async () => {
        mailer = openMailer(config, tls);
        await mailer.initializeSmtpSession();
        // worker-mailer's own connect() starts its send loop the same way.
        mailer.start().catch(() => undefined);
        await mailer.send(message);
      })(),
      deadline,
    ]);
    // QUIT politely, but never let a slow goodbye hold the outbox.
    const opened = mailer;
    if (opened) void Promise.race([opened.close(), sleep(2000)]).catch(() => undefined).finally(() => abort(opened));
    return { kind: 'delivered', status: 250 };
  } catch (error) {
    if (mailer) abort(mailer);
    return classify(error, config, secrets, tls);
  } finally {
    clearTimeout(timer);
  }
}

function openMailer(config: SmtpConfig, tls: TlsState): MailerInternals {
  const options: WorkerMailerOptions = {
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    startTls: config.security === 'starttls',
    authType: ['plain', 'login'],
    logLevel: LogLevel.NONE,
    // worker-mailer 1.2 uses socketTimeoutMs for both the connect and each reply.
    socketTimeoutMs: config.timeoutMs,
    responseTimeoutMs: config.timeoutMs,
  };
  if (config.credentials) options.credentials = { username: config.credentials.user, password: config.credentials.password };
  // The constructor is private in the typings only; connect() is `new` + initializeSmtpSession()
  // + start(), which we do ourselves to install the guards before the session begins.
  const mailer = new (WorkerMailer as unknown as MailerConstructor)(options);
  try {
    harden(mailer, config, tls);
  } catch (error) {
    abort(mailer);
    throw error;
  }
  return mailer;
}

function harden(mailer: MailerInternals, config: SmtpConfig, tls: TlsState): void {
  for (const method of ['initializeSmtpSession', 'start', 'tls', 'auth', 'send', 'close'] as const) {
    if (typeof mailer[method] !== 'function') throw new SmtpPolicyError(`worker-mailer has changed (no ${method}); this build expects worker-mailer 1.2`);
  }
  guardReader(mailer, tls);
  let encrypted = config.security === 'tls';
  const startTls = mailer.tls.bind(mailer);
  mailer.tls = async () => {
    await startTls();
    encrypted = true;
    tls.phase = 'handshake';
    guardReader(mailer, tls); // STARTTLS replaces the reader
  };
  const auth = mailer.auth.bind(mailer);
  // Runs after the (optional) STARTTLS step and before anything else is sent.
  mailer.auth = async () => {
    if (config.security === 'starttls' && !encrypted) {
      throw new SmtpPolicyError(`${config.host}:${config.port} did not offer STARTTLS, and SMTP_SECURITY=starttls refuses to continue unencrypted (use SMTP_SECURITY=tls for port 465)`);
    }
    if (!encrypted && mailer.allowAuth && config.credentials && !config.allowInsecureAuth) {
      throw new SmtpPolicyError('refusing to send SMTP_USER/SMTP_PASSWORD over an unencrypted connection (SMTP_ALLOW_INSECURE_AUTH is not set)');
    }
    await auth();
  };
}

/**
 * A closed stream answers every read with done: turn that into an error instead of a busy
 * loop. The first bytes read over TLS also confirm the handshake.
 */
function guardReader(mailer: MailerInternals, tls: TlsState): void {
  const reader = mailer.reader;
  mailer.reader = {
    async read() {
      const result = await reader.read();
      if (result.done) throw new SmtpConnectionClosed('the SMTP server closed the connection');
      if (tls.phase === 'handshake') tls.phase = 'up';
      tls.heard = true;
      return result;
    },
    releaseLock: () => reader.releaseLock(),
  };
}

function abort(mailer: MailerInternals): void {
  try {
    mailer.socket.close().catch(() => undefined);
  } catch {
    // Already closed.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ── Classification ─────────────────────────────────────────────────────────

/** Where in the SMTP dialogue worker-mailer 1.2 failed, from the start of its error message. */
const STAGES: Array<{ pattern: RegExp; stage: string; perMessage: boolean }> = [
  { pattern: /^Invalid MAIL FROM/, stage: 'MAIL FROM', perMessage: true },
  { pattern: /^Invalid RCPT TO/, stage: 'RCPT TO', perMessage: true },
  { pattern: /^Failed to send DATA/, stage: 'DATA', perMessage: true },
  { pattern: /^Failed send email body/, stage: 'end of DATA', perMessage: true },
  { pattern: /^Failed to connect to SMTP server/, stage: 'greeting', perMessage: false },
  { pattern: /^Failed to (EHLO|HELO)/, stage: 'EHLO', perMessage: false },
  { pattern: /^Failed to start TLS/, stage: 'STARTTLS', perMessage: false },
  { pattern: /authentication|^Invalid login/, stage: 'AUTH', perMessage: false },
];

function classify(error: unknown, config: SmtpConfig, secrets: string[], tls: TlsState): SendOutcome {
  const where = `${config.host}:${config.port}`;
  const raw = error instanceof Error ? error.message : String(error);
  const message = redact(raw, secrets);
  if (error instanceof SmtpPolicyError) return { kind: 'retry', reason: message };
  if (tls.phase === 'handshake' && !(error instanceof SmtpTimeout)) {
    const hint = config.security === 'tls' ? 'SMTP_SECURITY=tls expects TLS from the first byte (usually port 465; port 587 is "starttls")' : 'STARTTLS was accepted but the handshake did not complete';
    return { kind: 'retry', reason: `SMTP ${where}: TLS handshake failed — the certificate is not trusted or not valid for ${config.host}, or TLS is not spoken there (${hint}); runtime said: ${excerpt(message)}` };
  }
  // A server that speaks TLS at once (465) waits for our handshake while we wait for its greeting.
  const silentHint = !tls.heard && config.security !== 'tls' ? ' — no greeting at all: if this port expects TLS at once (465), set SMTP_SECURITY=tls' : '';
  if (error instanceof SmtpTimeout) return { kind: 'retry', reason: `SMTP ${where}: ${message} (timed out)${silentHint}` };
  if (error instanceof SmtpConnectionClosed) return { kind: 'retry', reason: `SMTP ${where}: ${message}` };

  const stage = STAGES.find((entry) => entry.pattern.test(raw));
  const reply = serverReply(message);
  if (stage && reply) {
    const said = `SMTP ${where} answered ${reply.code} at ${stage.stage}: ${reply.text}`;
    // A refused login is the deployment's to fix, never a dead letter; a 4xx there is just busy.
    if (stage.stage === 'AUTH') return { kind: 'retry', status: reply.code, reason: reply.code >= 500 ? `${said} (check SMTP_USER and SMTP_PASSWORD)` : said };
    if (reply.code >= 500 && stage.perMessage) return { kind: 'failed', reason: said };
    return { kind: 'retry', status: reply.code, reason: said };
  }
  if (/requires authentication, but no credentials/.test(raw)) {
    return { kind: 'retry', reason: `SMTP ${where} requires authentication: set SMTP_USER and SMTP_PASSWORD` };
  }
  if (/No supported auth method/.test(raw)) return { kind: 'retry', reason: `SMTP ${where} offers no AUTH method we speak (PLAIN or LOGIN)` };
  if (/^Timeout while waiting/.test(raw)) return { kind: 'retry', reason: `SMTP ${where}: no reply within ${config.timeoutMs} ms (timed out)${silentHint}` };
  if (/^Socket timeout/.test(raw)) return { kind: 'retry', reason: `SMTP ${where}: could not connect within ${config.timeoutMs} ms (timed out)` };
  return { kind: 'retry', reason: `SMTP ${where}: connection error: ${excerpt(message)}` };
}

/** The reply inside a worker-mailer error ("Invalid RCPT TO: <a@b> 550 5.1.1 no such user") as code + text. */
function serverReply(message: string): { code: number; text: string } | undefined {
  // worker-mailer echoes the command first ("Invalid RCPT TO: <ops.451-x@…> NOTIFY=NEVER 550 …"),
  // and its <address> may hold digits: look for the code after it.
  const start = /^Invalid (MAIL FROM|RCPT TO)/.test(message) ? message.indexOf('>') + 1 : 0;
  const match = /(?:^|[\s:.])([2-5]\d\d)(?:[ -]|$)([\s\S]*)$/.exec(message.slice(start));
  if (!match) return undefined;
  // Multi-line replies repeat the code on each line ("451-a\r\n451 b"): keep the words.
  const text = match[2]!.replace(/\r?\n[2-5]\d\d[ -]/g, ' ');
  return { code: Number(match[1]), text: excerpt(text) };
}

/** Collapses whitespace and control characters and keeps at most MAX_REASON_CHARS. */
function excerpt(text: string): string {
  const flat = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_REASON_CHARS ? `${flat.slice(0, MAX_REASON_CHARS)}…` : flat;
}

/**
 * The forms in which the password crosses the wire (plain, base64 for AUTH LOGIN, the
 * base64 AUTH PLAIN blob). Servers do not echo them, but a reason is stored and shown by
 * the API, so none of them may ever appear in one.
 */
function secretForms(config: SmtpConfig): string[] {
  if (!config.credentials) return [];
  const { user, password } = config.credentials;
  const forms = [password, base64(password), base64(`\u0000${user}\u0000${password}`)];
  return forms.filter((form) => form.length >= 3);
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
