'use strict';
// Runs Debian's nginx in front of a cluster's gateways with the compose
// stack's own infra/nginx.conf: only the addresses, the pid and temp paths
// are rewritten for a test, and a response header names the gateway that
// answered (so a test knows which node a client is pinned to).

const fs = require('node:fs');
const path = require('node:path');
const { freePort, sleep } = require('../../lib/server');

const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const CONF = path.join(__dirname, '..', '..', '..', '..', 'infra', 'nginx.conf');

/** The compose config, pointed at `gateways` and listening on `port`. */
function testConfig(gateways, port, dir) {
  let conf = fs.readFileSync(CONF, 'utf8');
  const servers = conf.match(/^\s*server gateway-\d+:8080 .*$/gm);
  if (!servers || servers.length !== 2) throw new Error('infra/nginx.conf: expected two `server gateway-N:8080 …` lines');
  gateways.forEach((gw, i) => {
    conf = conf.replace(servers[i], servers[i].replace(`gateway-${i + 1}:8080`, new URL(gw.url).host));
  });
  const swaps = [
    [/^pid .*;$/m, `pid ${dir}/nginx.pid;`],
    [/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`],
    [/\/tmp\/nginx-/g, `${dir}/nginx-`],
    [/^(\s*)access_log \/dev\/stdout;$/m, `$1log_format upstreams '$time_iso8601 "$request" $status upstream=$upstream_addr/$upstream_status $request_time s';\n$1access_log ${dir}/access.log upstreams;`],
    [/^(\s*)proxy_pass http:\/\/gateways;$/gm, '$1proxy_pass http://gateways;\n$1add_header X-Upstream $upstream_addr always;'],
  ];
  for (const [re, to] of swaps) {
    if (!re.test(conf)) throw new Error(`infra/nginx.conf: no match for ${re}`);
    conf = conf.replace(re, to);
  }
  return conf;
}

/** Starts nginx; resolves to {url, stop(), upstream()} once it answers. */
async function startNginx(cluster) {
  if (!fs.existsSync(NGINX)) throw new Error(`nginx not found at ${NGINX} (apt-get install nginx)`);
  const port = await freePort();
  const dir = path.join(cluster.dir, 'nginx');
  fs.mkdirSync(dir, { recursive: true });
  const confPath = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confPath, testConfig(cluster.gateways, port, dir));
  const proc = cluster.spawn('nginx', NGINX, ['-e', path.join(dir, 'error.log'), '-c', confPath, '-g', 'daemon off;'], {});
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exited) throw new Error(`nginx exited: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
    try {
      if ((await fetch(`${url}/nginx-health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error('nginx did not answer within 10 s');
    await sleep(50);
  }
  return {
    url,
    proc,
    errorLog: path.join(dir, 'error.log'),
    /** The gateway (`host:port`) nginx sends this client's requests to now. */
    async upstream() {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(15000) });
      return res.headers.get('x-upstream');
    },
    stop: () => proc.stop(),
  };
}

module.exports = { startNginx };
