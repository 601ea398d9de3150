/** The config `vantage up` writes on first start (to <data dir>/probe.yaml). */
export const UP_DEFAULT_CONFIG = `# Written by "vantage up" on first start: edit it and restart.
# Every key is described in probe/README.md.
probe:
  id: local-01
  region: local
  isp: local
  # resolvers: [127.0.0.53]   # default: the nameservers in /etc/resolv.conf
metrics:
  listen: 127.0.0.1:9464
tasks:
  # The probe's own health endpoint, so records flow out of the box.
  - { id: self-http, kind: http, target: "http://127.0.0.1:9464/healthz", http: { expect_status: [200] } }
  - { id: self-tcp, kind: tcp, target: "127.0.0.1:9464" }
  - { id: loopback-ping, kind: ping, target: 127.0.0.1, ping: { count: 3, interval: 200ms } }
  # Your sites: uncomment and edit. The dns task asks this machine's resolver and the references.
  # - id: shop-dns
  #   kind: dns
  #   target: shop.example.com
  #   dns: { types: [A, AAAA], references: ["https://doh.example/dns-query"], evidence: true }
  # - { id: shop-https, kind: http, target: "https://shop.example.com/", http: { expect_status: [200] } }
`;
