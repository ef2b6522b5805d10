import { randomBytes } from 'node:crypto';

/**
 * The pure part of `npm run setup`: turning the committed `.dev.vars.example` into a `.dev.vars`
 * with a fresh ADMIN_TOKEN, and picking the secrets to upload. No I/O here.
 *
 * Lines are dotenv lines as wrangler reads them: `NAME=value`, `# comment`, blank. Only the
 * simple unquoted form is produced and understood, which is all the example holds.
 */

const ASSIGNMENT = /^([A-Z][A-Z0-9_]*)=(.*)$/;
const COMMENTED_ASSIGNMENT = /^#\s*([A-Z][A-Z0-9_]*)=/;

/** 32 random bytes as hex: 64 characters, well above ADMIN_TOKEN's minimum of 32. */
export function generateAdminToken(): string {
  return randomBytes(32).toString('hex');
}

/** The uncommented `NAME=value` lines of a dotenv text, in order. */
export function assignmentsOf(text: string): Array<{ name: string; value: string }> {
  return text
    .split('\n')
    .map((line) => ASSIGNMENT.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => ({ name: match[1]!, value: match[2]!.trim() }));
}

/** Names that appear only commented out (`# NAME=`): the optional secrets the example lists. */
export function commentedNamesOf(text: string): string[] {
  return text
    .split('\n')
    .map((line) => COMMENTED_ASSIGNMENT.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => match[1]!);
}

/**
 * The example with ADMIN_TOKEN set to `adminToken`; everything else, comments included, kept
 * as written. The example must have an uncommented ADMIN_TOKEN line (it is the one required secret).
 */
export function renderDevVars(exampleText: string, adminToken: string): string {
  let replaced = false;
  const lines = exampleText.split('\n').map((line) => {
    const match = ASSIGNMENT.exec(line.trim());
    if (match?.[1] !== 'ADMIN_TOKEN') return line;
    replaced = true;
    return `ADMIN_TOKEN=${adminToken}`;
  });
  if (!replaced) throw new Error('.dev.vars.example has no uncommented ADMIN_TOKEN= line');
  return lines.join('\n');
}

/** What `--upload` sends: every set (uncommented, non-empty) value, by name. */
export function secretsToUpload(devVarsText: string): Record<string, string> {
  return Object.fromEntries(assignmentsOf(devVarsText).filter(({ value }) => value !== '').map(({ name, value }) => [name, value]));
}

/**
 * wrangler's arguments for the upload. The values go to its standard input as JSON, never on
 * the command line, where other users of the machine could read them.
 */
export function secretUploadArgs(): string[] {
  return ['secret', 'bulk'];
}
