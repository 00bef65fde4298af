import { assertEquals } from "@std/assert";
import { classifyAddress, isIpLiteral } from "../../lib/public_address.ts";

Deno.test("classifyAddress() refuses loopback, private, link-local, metadata and reserved IPv4", () => {
  const cases: Array<[string, string]> = [
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.254", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.169.254", "link-local"],
    ["0.0.0.0", "reserved"],
    ["192.0.2.10", "reserved"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["256.1.1.1", "invalid"],
    ["1.2.3", "invalid"],
  ];
  for (const [ip, kind] of cases) assertEquals(classifyAddress(ip), kind, ip);
});

Deno.test("classifyAddress() accepts public IPv4 next to the private ranges' edges", () => {
  for (const ip of ["93.184.215.14", "8.8.8.8", "172.15.255.255", "172.32.0.0", "11.0.0.1"]) {
    assertEquals(classifyAddress(ip), "public", ip);
  }
});

Deno.test("classifyAddress() judges IPv6, including IPv4 embedded in it", () => {
  const cases: Array<[string, string]> = [
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "reserved"],
    ["fd00:ec2::254", "unique-local"],
    ["fc00::1", "unique-local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "link-local"], // 169.254.169.254
    ["::ffff:10.0.0.1", "private"],
    ["64:ff9b::a00:1", "private"], // NAT64 of 10.0.0.1
    ["2002:a00:1::1", "private"], // 6to4 of 10.0.0.1
    ["2606:4700:4700::1111", "public"],
    ["::ffff:8.8.8.8", "public"],
    ["2001:db8::1::2", "invalid"],
    ["12345::", "invalid"],
  ];
  for (const [ip, kind] of cases) assertEquals(classifyAddress(ip), kind, ip);
});

Deno.test("isIpLiteral() tells addresses from names", () => {
  assertEquals(isIpLiteral("127.0.0.1"), true);
  assertEquals(isIpLiteral("[::1]"), true);
  assertEquals(isIpLiteral("claude.ai"), false);
  assertEquals(isIpLiteral("1.2.3.4.example"), false);
});
