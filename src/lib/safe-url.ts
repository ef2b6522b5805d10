import { AppError } from './errors';

/**
 * Validation of user-supplied webhook URLs (server-side request forgery guard).
 *
 * What this checks is the URL as written: scheme, credentials and the *literal* host.
 * IP literals are checked after WHATWG URL parsing, which normalises the odd IPv4 forms
 * (`http://2130706433/`, `http://0x7f000001/`, `http://0177.0.0.1/`, `http://127.1/` all
 * become `127.0.0.1`) and compresses IPv6 (`[::ffff:127.0.0.1]` becomes `[::ffff:7f00:1]`),
 * so checking `url.hostname` covers every spelling the runtime would actually connect to.
 *
 * What this cannot check: a public hostname whose DNS answer is (or later becomes, via DNS
 * rebinding) a private address. Workers have no DNS resolution API to pin the address
 * before connecting, so that part is not checkable here; in production Cloudflare's egress
 * refuses to connect Workers' subrequests to private and loopback ranges anyway. Redirects
 * are the other bypass; the webhook sender does not follow them (`redirect: 'manual'`).
 */

export type WebhookUrlResult = { ok: true; url: URL } | { ok: false; error: AppError };

export type WebhookUrlOptions = {
  /** Local development only: allow http and loopback/private hosts. */
  allowPrivate: boolean;
};

const MAX_URL_LENGTH = 2048;
const PRIVATE_HINT =
  'loopback and private addresses are refused; set ALLOW_PRIVATE_WEBHOOK_URLS=true for local development';

export function parseWebhookUrl(raw: string, opts: WebhookUrlOptions): WebhookUrlResult {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') {
    return fail('a webhook URL is required, e.g. https://example.com/hooks/marginwatch');
  }
  if (text.length > MAX_URL_LENGTH) {
    return fail(`webhook URLs must be at most ${MAX_URL_LENGTH} characters`);
  }

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('webhook URL is not a valid absolute URL; use the form https://example.com/hooks/marginwatch');
  }

  if (url.protocol === 'http:') {
    if (!opts.allowPrivate) {
      return fail('webhook URLs must use https; plain http is only allowed with ALLOW_PRIVATE_WEBHOOK_URLS=true for local development');
    }
  } else if (url.protocol !== 'https:') {
    return fail(`webhook URLs must use https (got ${url.protocol.replace(/:$/, '')})`);
  }

  if (url.username !== '' || url.password !== '') {
    return fail('webhook URLs must not contain credentials (user:password@); receivers authenticate requests by verifying the webhook signature instead');
  }

  if (!opts.allowPrivate) {
    const refused = refusedHostReason(url.hostname);
    if (refused !== undefined) {
      return fail(`webhook URL host ${url.hostname} is ${refused}; ${PRIVATE_HINT}`);
    }
  }

  return { ok: true, url };
}

function fail(message: string): WebhookUrlResult {
  return {
    ok: false,
    error: new AppError('invalid_webhook_url', message, { status: 400, issues: [{ path: 'url', message }] }),
  };
}

/**
 * Why a (WHATWG-normalised) hostname is refused, as a phrase ("a loopback address"),
 * or undefined when it is acceptable as a public destination.
 */
export function refusedHostReason(hostname: string): string | undefined {
  const host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = parseIpv6(host.slice(1, -1));
    // An IPv6 literal we cannot read is refused rather than guessed about.
    return groups === undefined ? 'an unrecognised IPv6 address' : ipv6Reason(groups);
  }
  const v4 = parseDottedIpv4(host);
  if (v4 !== undefined) return ipv4Reason(v4);

  const name = host.replace(/\.+$/, ''); // "localhost." is the same host as "localhost"
  if (name === '') return 'empty';
  if (name === 'localhost' || name.endsWith('.localhost')) return 'a loopback name (localhost)';
  if (name === 'local' || name.endsWith('.local')) return 'a link-local mDNS name (.local)';
  if (name === 'internal' || name.endsWith('.internal')) return 'an internal name (.internal, e.g. cloud metadata services)';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// IPv4

type Ipv4Range = { base: number; prefix: number; reason: string };

function cidr(a: number, b: number, c: number, d: number, prefix: number, reason: string): Ipv4Range {
  return { base: ipv4ToInt(a, b, c, d), prefix, reason };
}

const REFUSED_IPV4: readonly Ipv4Range[] = [
  cidr(255, 255, 255, 255, 32, 'the broadcast address'),
  cidr(0, 0, 0, 0, 8, 'an unspecified ("this network") address'),
  cidr(10, 0, 0, 0, 8, 'a private address'),
  cidr(100, 64, 0, 0, 10, 'a carrier-grade NAT (shared) address'),
  cidr(127, 0, 0, 0, 8, 'a loopback address'),
  cidr(169, 254, 0, 0, 16, 'a link-local address (this includes cloud metadata endpoints)'),
  cidr(172, 16, 0, 0, 12, 'a private address'),
  // The rest of IANA's IPv4 special-purpose registry that is not meant as a destination.
  cidr(192, 0, 0, 0, 24, 'an IETF protocol-assignment address (192.0.0.0/24)'),
  cidr(192, 0, 2, 0, 24, 'a documentation address (TEST-NET-1)'),
  cidr(192, 31, 196, 0, 24, 'an AS112 address'),
  cidr(192, 52, 193, 0, 24, 'an AMT address'),
  cidr(192, 88, 99, 0, 24, 'a 6to4 relay anycast address'),
  cidr(192, 168, 0, 0, 16, 'a private address'),
  cidr(192, 175, 48, 0, 24, 'an AS112 address'),
  cidr(198, 18, 0, 0, 15, 'a benchmarking-network address'),
  cidr(198, 51, 100, 0, 24, 'a documentation address (TEST-NET-2)'),
  cidr(203, 0, 113, 0, 24, 'a documentation address (TEST-NET-3)'),
  cidr(224, 0, 0, 0, 4, 'a multicast address'),
  cidr(240, 0, 0, 0, 4, 'a reserved address'),
];

function ipv4ToInt(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function parseDottedIpv4(host: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (match === null) return undefined;
  const parts = match.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = parts;
  return ipv4ToInt(a, b, c, d);
}

function ipv4Reason(address: number): string | undefined {
  for (const range of REFUSED_IPV4) {
    const mask = range.prefix === 0 ? 0 : (~0 << (32 - range.prefix)) >>> 0;
    if (((address & mask) >>> 0) === range.base) return range.reason;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// IPv6

/** Eight 16-bit groups, or undefined when the text is not an IPv6 address. */
function parseIpv6(text: string): number[] | undefined {
  if (text.includes('%')) return undefined; // zone ids never reach here via WHATWG URL
  let head = text;
  let tailV4: number[] = [];
  // WHATWG serialises embedded IPv4 as hex, but accept a dotted tail defensively.
  const dotted = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (dotted !== null) {
    const v4 = parseDottedIpv4(dotted[2] ?? '');
    if (v4 === undefined) return undefined;
    head = `${dotted[1] ?? ''}0:0`; // placeholder groups, replaced below
    tailV4 = [v4 >>> 16, v4 & 0xffff];
  }

  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0] ?? '');
  const right = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (left === undefined || right === undefined) return undefined;

  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== 8) return undefined;
  if (tailV4.length === 2) groups.splice(6, 2, ...tailV4);
  return groups;
}

type Ipv6Range = { base: bigint; prefix: number; reason: string };

/** `groups` are the leading 16-bit groups of the prefix; the rest are zero. */
function cidr6(groups: number[], prefix: number, reason: string): Ipv6Range {
  return { base: ipv6ToBigInt([...groups, ...new Array<number>(8 - groups.length).fill(0)]), prefix, reason };
}

function ipv6ToBigInt(groups: number[]): bigint {
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/**
 * IANA's IPv6 special-purpose registry, beyond the scopes checked in ipv6Reason: ranges
 * that translate to (possibly internal) IPv4, tunnel, or are not meant as destinations.
 */
const REFUSED_IPV6: readonly Ipv6Range[] = [
  cidr6([0x64, 0xff9b], 96, 'a NAT64 address (64:ff9b::/96)'),
  cidr6([0x64, 0xff9b, 0x1], 48, 'a local-use NAT64 address (64:ff9b:1::/48)'),
  cidr6([0x100], 64, 'a discard-only address (100::/64)'),
  cidr6([0x100, 0, 0, 1], 64, 'a dummy-prefix address (100:0:0:1::/64)'),
  cidr6([0x2001], 32, 'a Teredo tunnel address (2001::/32)'),
  cidr6([0x2001], 23, 'an IETF protocol-assignment address (2001::/23)'),
  cidr6([0x2001, 0xdb8], 32, 'a documentation address (2001:db8::/32)'),
  cidr6([0x2002], 16, 'a 6to4 address (2002::/16)'),
  cidr6([0x2620, 0x4f, 0x8000], 48, 'an AS112 address'),
  cidr6([0x3fff], 20, 'a documentation address (3fff::/20)'),
  cidr6([0x5f00], 16, 'an SRv6 SID address (5f00::/16)'),
];

function refusedIpv6Range(g: number[]): string | undefined {
  const address = ipv6ToBigInt(g);
  for (const range of REFUSED_IPV6) {
    const shift = BigInt(128 - range.prefix);
    if (address >> shift === range.base >> shift) return range.reason;
  }
  return undefined;
}

function ipv6Reason(g: number[]): string | undefined {
  const at = (i: number): number => g[i] ?? 0;
  const embeddedV4 = (hi: number, lo: number): number => ((at(hi) << 16) | at(lo)) >>> 0;
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);

  if (g.every((x) => x === 0)) return 'the unspecified address (::)';
  if (zeroUpTo(7) && at(7) === 1) return 'a loopback address (::1)';

  const first = at(0);
  if ((first & 0xff00) === 0xff00) return 'a multicast address';
  if ((first & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((first & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((first & 0xfe00) === 0xfc00) return 'a unique-local (private) address';

  // Addresses that embed an IPv4 address get the IPv4 rules.
  const embedded = (v4: number): string | undefined => {
    const reason = ipv4Reason(v4);
    return reason === undefined ? undefined : `an IPv6 address embedding ${reason}`;
  };
  if (zeroUpTo(5) && at(5) === 0xffff) return embedded(embeddedV4(6, 7)); // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeroUpTo(4) && at(4) === 0xffff && at(5) === 0) return embedded(embeddedV4(6, 7)); // ::ffff:0:a.b.c.d
  if (zeroUpTo(6)) return embedded(embeddedV4(6, 7)); // ::a.b.c.d (deprecated IPv4-compatible)
  if (first === 0x64 && at(1) === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return embedded(embeddedV4(6, 7)) ?? refusedIpv6Range(g); // 64:ff9b::a.b.c.d (NAT64)
  }
  if (first === 0x2002) return embedded(embeddedV4(1, 2)) ?? refusedIpv6Range(g); // 2002:aabb:ccdd:: (6to4)
  return refusedIpv6Range(g);
}
