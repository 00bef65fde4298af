/**
 * Which IP addresses a server-side fetch of a URL chosen by someone else may connect to: public unicast
 * only. Loopback, private (RFC 1918), carrier-grade NAT, link-local (which holds the cloud metadata
 * address 169.254.169.254), unique-local IPv6, multicast, documentation and reserved ranges are refused;
 * IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged by its IPv4 part. Written here because the
 * ranges are few and the check must also work on Deno Deploy, where no SSRF-filter package applies.
 *
 * @see https://www.iana.org/assignments/iana-ipv4-special-registry/
 * @see https://www.iana.org/assignments/iana-ipv6-special-registry/
 * @module
 */

/** Why an address is not public, as a short word. */
export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "reserved"
  | "invalid";

/** IPv4 ranges that are not public: [first octets as a 32-bit number, prefix length, class]. */
const V4_RANGES: Array<[string, number, AddressClass]> = [
  ["0.0.0.0", 8, "reserved"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "private"], // carrier-grade NAT (RFC 6598)
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"], // includes 169.254.169.254, the cloud metadata service
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments
  ["192.0.2.0", 24, "reserved"], // TEST-NET-1
  ["192.88.99.0", 24, "reserved"], // 6to4 relay anycast
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"], // benchmarking
  ["198.51.100.0", 24, "reserved"], // TEST-NET-2
  ["203.0.113.0", 24, "reserved"], // TEST-NET-3
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"], // includes 255.255.255.255
];

function v4Number(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    n = n * 256 + Number(part);
  }
  return n;
}

function classifyV4(ip: string): AddressClass {
  const n = v4Number(ip);
  if (n === null) return "invalid";
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = v4Number(base)!;
    if (n >= start && n < start + size) return kind;
  }
  return "public";
}

/** The eight 16-bit groups of an IPv6 address, or null. Accepts a trailing dotted IPv4 part. */
function v6Groups(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = v4Number(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    text = text.slice(0, lastColon + 1) + "0"; // placeholder group, replaced below
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":"));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const all = [...head, ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - all.length - (tail.length ? 1 : 0);
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [
    ...head.map((g) => parseInt(g, 16)),
    ...new Array(halves.length === 2 ? missing : 0).fill(0),
    ...rest.map((g) => parseInt(g, 16)),
  ];
  if (tail.length) groups.splice(groups.length - 1, 1, ...tail);
  return groups.length === 8 ? groups : null;
}

function classifyV6(ip: string): AddressClass {
  const g = v6Groups(ip);
  if (!g) return "invalid";
  const [a, b] = [g[0]!, g[1]!];
  const embedded = (hi: number, lo: number) =>
    classifyV4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  if (g.every((x) => x === 0)) return "reserved"; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback"; // ::1
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return embedded(g[6]!, g[7]!); // ::ffff:v4
  if (g.slice(0, 6).every((x) => x === 0)) return "reserved"; // deprecated IPv4-compatible
  if (a === 0x64 && b === 0xff9b) return embedded(g[6]!, g[7]!); // NAT64 (RFC 6052)
  if (a === 0x2002) return embedded(b, g[2]!); // 6to4 carries an IPv4 address
  if ((a & 0xfe00) === 0xfc00) return "unique-local"; // fc00::/7 (AWS metadata fd00:ec2::254)
  if ((a & 0xffc0) === 0xfe80 || (a & 0xffc0) === 0xfec0) return "link-local";
  if ((a & 0xff00) === 0xff00) return "multicast";
  if (a === 0x2001 && b === 0x0db8) return "reserved"; // documentation
  if (a === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return "reserved"; // discard
  if ((a & 0xe000) !== 0x2000) return "reserved"; // outside global unicast 2000::/3
  return "public";
}

/**
 * Classifies an IP address literal (IPv4 dotted, or IPv6 with or without brackets).
 *
 * @example
 * ```ts
 * classifyAddress("169.254.169.254"); // "link-local"
 * classifyAddress("[::ffff:10.0.0.1]"); // "private"
 * classifyAddress("93.184.215.14"); // "public"
 * ```
 */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  return bare.includes(":") ? classifyV6(bare) : classifyV4(bare);
}

/** Whether `host` (as `URL.hostname` gives it) is an IP address literal rather than a name. */
export function isIpLiteral(host: string): boolean {
  return host.startsWith("[") || v4Number(host) !== null;
}
