import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { ChannelType } from './types.js';

/**
 * The hosts each chat bot's requests may go to: the vendors' own API hosts, over HTTPS. A bot channel pointed anywhere
 * else is refused, so a channel entry cannot turn a bot into a request to an arbitrary server.
 */
export const VENDOR_HOSTS: Record<Exclude<ChannelType, 'webhook'>, readonly string[]> = {
  wecom: ['qyapi.weixin.qq.com'],
  dingtalk: ['oapi.dingtalk.com'],
  // Feishu, and Lark (its international edition) for tenants there.
  feishu: ['open.feishu.cn', 'open.larksuite.com'],
};

/**
 * Destinations let through although they are not public: host names (matched exactly, case-insensitive), IP
 * addresses and CIDR ranges. Listed hosts may also stand in for the vendors' (a local receiver in tests and demos).
 */
export interface AllowList {
  readonly hosts: ReadonlySet<string>;
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export const EMPTY_ALLOW_LIST: AllowList = { hosts: new Set(), ranges: [] };

/** Reads `host,10.0.0.0/8,127.0.0.1`; throws naming the position of an entry that is none of the three. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  entries.forEach((raw, index) => {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (ipaddr.isValidCIDR(entry)) {
      const [address, bits] = ipaddr.parseCIDR(entry);
      ranges.push([normalise(address), address.kind() === 'ipv6' && normalise(address).kind() === 'ipv4' ? bits - 96 : bits]);
    } else if (ipaddr.isValid(entry) && /[.:]/.test(entry)) {
      const address = normalise(ipaddr.parse(entry));
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(entry)) {
      hosts.add(entry);
    } else {
      throw new Error(`entry ${index + 1} of ${entries.length} is not a host name, an IP address or a CIDR range`);
    }
  });
  return { hosts, ranges };
}

function normalise(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** Why a destination is refused, or undefined when it may be reached. Never carries the URL (bot URLs hold keys). */
export type Refusal = string | undefined;

/**
 * Checks what the URL string alone can tell: the scheme, and for a bot that the host is its vendor's (or allow-listed).
 * The address is checked when connecting ({@link checkAddress}), since a name can resolve anywhere.
 */
export function checkUrl(type: ChannelType, url: string, allow: AllowList): Refusal {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'the URL does not parse';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `scheme ${parsed.protocol} is not http or https`;
  const host = hostOf(parsed);
  if (type === 'webhook' || isListed(host, allow)) return undefined;
  if (!VENDOR_HOSTS[type].includes(host)) return `${type} channels go only to ${VENDOR_HOSTS[type].join(' or ')}`;
  if (parsed.protocol !== 'https:') return `${type} channels go only over https`;
  if (parsed.port !== '' && parsed.port !== '443') return `${type} channels go only to port 443`;
  return undefined;
}

/** The URL's host name, lower-case, without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/**
 * May `host`, connected at `address`, be reached? Public unicast addresses may; loopback, private, link-local (the
 * cloud metadata service at 169.254.169.254), carrier-grade NAT, multicast, reserved and the IPv6 equivalents may
 * not, unless the host name or the address is on the allow-list.
 */
export function checkAddress(host: string, address: string, allow: AllowList): Refusal {
  if (!ipaddr.isValid(address)) return 'the address connected to is not an IP address';
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === 'unicast') return undefined;
  if (isListed(host, allow) || inRanges(ip, allow)) return undefined;
  return `the host resolves to a ${range} address, which is not on the allow-list`;
}

/** The host is on the allow-list by name, or is an IP literal within a listed range. */
function isListed(host: string, allow: AllowList): boolean {
  const name = host.toLowerCase();
  if (allow.hosts.has(name)) return true;
  return ipaddr.isValid(name) && /[.:]/.test(name) && inRanges(ipaddr.process(name), allow);
}

function inRanges(ip: ipaddr.IPv4 | ipaddr.IPv6, allow: AllowList): boolean {
  return allow.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A refused destination, as the sender's connection reports it. */
export class DestinationRefusedError extends Error {
  override readonly name = 'DestinationRefusedError';
  readonly code = 'EDESTINATIONREFUSED';
}

/**
 * A `lookup` for `net.connect` that resolves as usual and refuses the connection when any address of the name is
 * refused by {@link checkAddress}: the socket then connects only to addresses that were checked (no DNS rebinding
 * between a check and the connection).
 */
export function guardedLookup(allow: AllowList) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true } as { all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '');
      for (const { address } of addresses) {
        const refusal = checkAddress(hostname, address, allow);
        if (refusal) return callback(new DestinationRefusedError(refusal), options.all ? [] : '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new DestinationRefusedError('the host has no address'), '');
      callback(null, first.address, first.family);
    });
  };
}
