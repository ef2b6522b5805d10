import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A test CA and a loopback certificate, made once per machine with the openssl CLI (never
 * committed). `npm test` runs this file before vitest and starts vitest with
 * NODE_EXTRA_CA_CERTS pointing at the CA, because miniflare reads that variable only at
 * start-up; then workerd trusts the local STARTTLS / TLS SMTP servers of the email tests.
 */
export const TLS_DIR = fileURLToPath(new URL('../../.cache/smtp-tls/', import.meta.url));

export function ensureCertificates(): void {
  const file = (name: string) => join(TLS_DIR, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  mkdirSync(TLS_DIR, { recursive: true });
  if (!existsSync(file('ca.pem')) || !existsSync(file('ca.key'))) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '3650', '-subj', '/CN=marginwatch test CA (local only)',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  let leafValid = existsSync(file('leaf.pem')) && existsSync(file('leaf.key'));
  if (leafValid) {
    try {
      openssl('x509', '-checkend', '86400', '-noout', '-in', file('leaf.pem'));
    } catch {
      leafValid = false; // expires within a day
    }
  }
  if (leafValid) return;
  // workerd's verifier wants an X.509 v3 server certificate with the name in subjectAltName.
  writeFileSync(file('leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('leaf.key'), '-out', file('leaf.csr'), '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('leaf.pem'), '-days', '365', '-extfile', file('leaf.ext'));
}

// Run directly (npm test): make the files, or explain why the trusted-TLS tests will skip.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    ensureCertificates();
  } catch (error) {
    console.warn(`test-ca: could not make the test CA with openssl (${error instanceof Error ? error.message.split('\n')[0] : 'unknown'}); the trusted SMTP TLS tests will skip`);
  }
}
