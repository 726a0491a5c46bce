/**
 * The one rule for every URL of a relay, wherever it enters (an invitation, `--relay`, `--url`,
 * `--public-url`, node.json, an auditor's credentials, a peer row): https:// anywhere, plain
 * http:// only on loopback (127.0.0.0/8, ::1, localhost), where no network is crossed.
 * DESIGN.md, "At the edge": TLS off loopback, always.
 */
import { EntraideError, type ErrorCode } from '../errors.ts';

/** What the core reads of a parsed URL. */
interface ParsedUrl {
  readonly protocol: string;
  readonly hostname: string;
  readonly username: string;
  readonly password: string;
  readonly href: string;
}

/**
 * The WHATWG URL parser, which Node 20 and browsers both provide. The core compiles without their
 * type libraries, so it names only what it reads. The same parser as fetch's: the host judged here
 * is the host connected to (`http://127.1`, `http://[0::1]` and `http://a@b` are normalised alike).
 */
const Url = (globalThis as unknown as { URL: new (input: string) => ParsedUrl }).URL;

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Whether `host` (a URL's hostname, or an address to listen on such as `127.0.0.1`, `::1`,
 * `[::1]`, `localhost`) is this machine's loopback. `0.0.0.0` and `::` are not: they listen on
 * every interface.
 */
export function isLoopbackHost(host: string): boolean {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let name: string;
  try {
    name = new Url(`http://${bracketed}/`).hostname;
  } catch {
    return false;
  }
  return name === 'localhost' || name === '[::1]' || LOOPBACK_V4.test(name);
}

/**
 * `value` as a URL to reach a relay at. Preconditions, each refused with a message naming `what`:
 * it parses as an absolute http(s) URL without user name or password (otherwise `invalid`, USAGE
 * unless the caller reads a file and names its own code), and plain http:// names a loopback host
 * (otherwise INSECURE_URL, whoever reads it: a person, a file or a database row).
 */
export function checkServiceUrl(value: string, what: string, invalid: ErrorCode = 'USAGE'): ParsedUrl {
  let url: ParsedUrl;
  try {
    url = new Url(value);
  } catch {
    throw new EntraideError(invalid, `${what} must be the URL of a relay, such as https://relay.example`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new EntraideError(invalid, `${what} must be an https:// URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    throw new EntraideError(invalid, `${what} must not carry a user name or password`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new EntraideError(
      'INSECURE_URL',
      `${what} is plain http:// to ${url.hostname}, another machine: a relay off this machine is reached over https:// only`,
    );
  return url;
}
