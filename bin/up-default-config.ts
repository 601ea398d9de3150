/** The config `vantage up` writes on first start (to <data dir>/probe.yaml). */
export const UP_DEFAULT_CONFIG = `# Written by "vantage up" on first start: edit it and restart.
# Probe and task keys: probe/README.md. The analyzer, alarms and api sections: analyzer/README.md.
probe:
  id: local-01
  region: local
  isp: local
  # resolvers: [127.0.0.53]   # default: the nameservers in /etc/resolv.conf
# Several vantage points on this machine instead of one (each runs every task):
# probes:
#   - { id: east-01, region: east, isp: telecom }
#   - { id: west-01, region: west, isp: unicom, resolvers: [127.0.0.53] }
metrics:
  listen: 127.0.0.1:9464
api:
  listen: 127.0.0.1:8080       # the API and the dashboard
tasks:
  # This machine's own resolver, and Vantage's own API, so records flow out of the box.
  - { id: resolver-localhost, kind: dns, target: localhost, dns: { types: [A], expect: { ips: [127.0.0.1] } } }
  - { id: api-http, kind: http, target: "http://127.0.0.1:8080/healthz", http: { expect_status: [200] } }
  - { id: api-tcp, kind: tcp, target: "127.0.0.1:8080" }
  - { id: loopback-ping, kind: ping, target: 127.0.0.1, ping: { count: 3, interval: 200ms } }
  # Your sites: uncomment and edit. The dns task asks this machine's resolver and the references,
  # and with evidence fetches the page through any answer the references did not give.
  # - id: shop-dns
  #   kind: dns
  #   target: shop.example.com
  #   dns: { types: [A, AAAA], references: ["https://doh.example/dns-query"], evidence: true }
  # - { id: shop-https, kind: http, target: "https://shop.example.com/", http: { expect_status: [200] } }
# Alarms and where they go (analyzer/README.md, "Alarms and webhooks"), e.g.:
# alarms:
#   channels:
#     ops: { type: webhook, url: "https://hooks.example/vantage", secrets: ["env:VANTAGE_WEBHOOK_SECRET"] }
#   rules:
#     - { id: site-down, kind: availability, select: { tasks: [shop-https] }, scope: region_isp, window: 5m, success_ratio_below: 0.9, channels: [ops] }
#     - { id: dns-hijack, kind: hijack, classes: [ad_hijack, ad_injection, malicious], min_probes: 1, channels: [ops] }
`;
