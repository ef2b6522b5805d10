import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startHangUpServer, startSmtpTestServer, type SmtpTestServer } from '../helpers/smtp-test-server';
import { ensureCertificates, TLS_DIR } from '../helpers/test-ca';

let servers: SmtpTestServer[] = [];
let hangUp: { stop(): Promise<void> } | undefined;


/**
 * Real SMTP servers on loopback for the email tests (Node side), and the bindings that
 * point the worker at the main one:
 * - main: plain text (SMTP_SECURITY=none with SMTP_ALLOW_INSECURE_AUTH, local development
 *   style), AUTH PLAIN/LOGIN with a random password, scriptable replies;
 * - starttls: offers STARTTLS with smtp-server's built-in self-signed certificate, which
 *   workerd must refuse (the tests prove there is no fallback to plain text);
 * - hang-up: greets, answers EHLO, then closes the connection;
 * - trusted STARTTLS and TLS servers, only when workerd trusts the test CA: miniflare reads
 *   NODE_EXTRA_CA_CERTS once, when it is loaded, before any global setup runs, so it must be
 *   set when vitest starts: `NODE_EXTRA_CA_CERTS=.cache/smtp-tls/ca.pem npx vitest run
 *   --project workers` (the CA is created by any earlier run). Without it those tests skip.
 */
export default async function setup(project: TestProject) {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const main = await startSmtpTestServer({ user: 'mw-test', password, security: 'none' });
  const starttls = await startSmtpTestServer({ user: 'mw-test', password, security: 'starttls' });
  const hangUpServer = await startHangUpServer();
  servers = [main, starttls];
  hangUp = hangUpServer;
  const trusted: Record<string, string> = {};
  const certificate = trustedCertificate();
  if (certificate) {
    const trustedStartTls = await startSmtpTestServer({ user: 'mw-test', password, security: 'starttls', ...certificate });
    const trustedTls = await startSmtpTestServer({ user: 'mw-test', password, security: 'tls', ...certificate });
    servers.push(trustedStartTls, trustedTls);
    Object.assign(trusted, {
      TEST_SMTP_TRUSTED_STARTTLS_PORT: String(trustedStartTls.port),
      TEST_SMTP_TRUSTED_STARTTLS_CONTROL_URL: trustedStartTls.controlUrl,
      TEST_SMTP_TRUSTED_TLS_PORT: String(trustedTls.port),
      TEST_SMTP_TRUSTED_TLS_CONTROL_URL: trustedTls.controlUrl,
    });
  }
  project.provide('emailBindings' as never, {
    EMAIL_TRANSPORT: 'smtp',
    EMAIL_FROM: 'marginwatch alerts <alerts@marginwatch.test>',
    SMTP_HOST: main.host,
    SMTP_PORT: String(main.port),
    SMTP_USER: 'mw-test',
    SMTP_PASSWORD: password,
    SMTP_SECURITY: 'none',
    SMTP_ALLOW_INSECURE_AUTH: 'true',
    SMTP_TIMEOUT_MS: '5000',
    TEST_SMTP_CONTROL_URL: main.controlUrl,
    TEST_SMTP_STARTTLS_PORT: String(starttls.port),
    TEST_SMTP_STARTTLS_CONTROL_URL: starttls.controlUrl,
    TEST_SMTP_HANGUP_PORT: String(hangUpServer.port),
    ...trusted,
  } as never);
  return async () => {
    for (const server of servers) await server.stop();
    await hangUp?.stop();
  };
}

/** The loopback key and certificate, when this run's workerd trusts their CA; else undefined. */
function trustedCertificate(): { key: string; cert: string } | undefined {
  const ca = join(TLS_DIR, 'ca.pem');
  // Decided before anything is created: a CA made now was not there when miniflare loaded.
  const trusted = process.env.NODE_EXTRA_CA_CERTS !== undefined && resolve(process.env.NODE_EXTRA_CA_CERTS) === ca && existsSync(ca);
  try {
    ensureCertificates();
  } catch {
    return undefined; // no openssl here: the trusted-TLS tests skip
  }
  return trusted ? { key: readFileSync(join(TLS_DIR, 'leaf.key'), 'utf8'), cert: readFileSync(join(TLS_DIR, 'leaf.pem'), 'utf8') } : undefined;
}
