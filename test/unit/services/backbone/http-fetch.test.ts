// The downloader's requests and the usual proxy variables, on loopback: which hosts NO_PROXY exempts; an
// http address asked of an HTTP_PROXY by its full URL (also by downloadBackbone, whole file checked); an
// https address through an HTTPS_PROXY's CONNECT tunnel with TLS to the real host (a certificate made
// with openssl for 127.0.0.1; skipped with the reason when openssl is missing); and NO_PROXY going direct.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadBackbone } from '../../../../main/services/backbone/download.js';
import { bypassesProxy, httpFetch, proxyFor } from '../../../../main/services/backbone/http-fetch.js';

const body = randomBytes(200_000);
const dir = mkdtempSync(join(tmpdir(), 'attnvgg-proxy-'));
const seen: string[] = [];
let target: Server;
let proxy: Server;
let targetBase = '';
let proxyUrl = '';

const port = (s: Server) => (s.address() as AddressInfo).port;
const listen = (s: Server) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));

before(async () => {
  target = createServer((_req, res) =>
    res.writeHead(200, { 'Content-Length': String(body.length) }).end(body),
  );
  proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    get(req.url!, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    }).on('error', () => res.writeHead(502).end());
  });
  proxy.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, p] = (req.url ?? '').split(':');
    const upstream = connect(Number(p), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await listen(target);
  await listen(proxy);
  targetBase = `http://127.0.0.1:${port(target)}`;
  proxyUrl = `http://127.0.0.1:${port(proxy)}`;
});

after(async () => {
  await new Promise((r) => target.close(r));
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('NO_PROXY and the proxy variables choose the route per address', () => {
  const u = (s: string) => new URL(s);
  assert.equal(bypassesProxy(u('https://download.pytorch.org/x'), 'localhost,.pytorch.org'), true);
  assert.equal(bypassesProxy(u('https://pytorch.org/x'), '.pytorch.org'), true);
  assert.equal(bypassesProxy(u('https://notpytorch.org/x'), 'pytorch.org'), false);
  assert.equal(bypassesProxy(u('http://127.0.0.1:8080/x'), '127.0.0.1:9090'), false);
  assert.equal(bypassesProxy(u('http://127.0.0.1:8080/x'), '127.0.0.1:8080'), true);
  assert.equal(bypassesProxy(u('https://huggingface.co/x'), '*'), true);
  const env = {
    HTTPS_PROXY: 'proxy.example:3128',
    http_proxy: 'http://u:p@web.example:80',
    NO_PROXY: 'github.com',
  };
  assert.equal(proxyFor(u('https://huggingface.co/x'), env)?.host, 'proxy.example:3128');
  assert.equal(proxyFor(u('http://example.org/x'), env)?.host, 'web.example');
  assert.equal(proxyFor(u('https://github.com/onnx/models'), env), undefined);
  assert.equal(proxyFor(u('https://huggingface.co/x'), {}), undefined);
  assert.throws(
    () => proxyFor(u('https://x.org/'), { HTTPS_PROXY: 'socks5://p:1080' }),
    /only http:\/\/ proxies/,
  );
});

test('an http address goes through HTTP_PROXY, also for a whole download; NO_PROXY goes direct', async () => {
  seen.length = 0;
  const res = await httpFetch(`${targetBase}/a.bin`, { env: { HTTP_PROXY: proxyUrl } });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  assert.deepEqual(seen, [`GET ${targetBase}/a.bin`]);

  seen.length = 0;
  await (
    await httpFetch(`${targetBase}/b.bin`, { env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } })
  ).arrayBuffer();
  assert.deepEqual(seen, []);

  seen.length = 0;
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = proxyUrl;
  try {
    const got = await downloadBackbone(
      { url: `${targetBase}/vgg16_bn.onnx`, sha256: createHash('sha256').update(body).digest('hex') },
      { workspace: join(dir, 'ws') },
    );
    assert.equal(got.verified, true);
    assert.deepEqual(readFileSync(got.path), body);
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
  }
  assert.deepEqual(seen, [`GET ${targetBase}/vgg16_bn.onnx`]);
});

const openssl = existsSync('/usr/bin/openssl') ? null : 'no /usr/bin/openssl to make a test certificate';
if (openssl) console.log(`# skipping the CONNECT tunnel test: ${openssl}`);

test(
  'an https address goes through the CONNECT tunnel of HTTPS_PROXY',
  { skip: openssl ?? false },
  async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      '/usr/bin/openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const secure = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) =>
      res.writeHead(200, { 'Content-Length': String(body.length) }).end(body),
    );
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    try {
      seen.length = 0;
      const url = `https://127.0.0.1:${(secure.address() as AddressInfo).port}/models/vgg16_bn.pth`;
      const res = await httpFetch(url, { env: { HTTPS_PROXY: proxyUrl }, tls: { ca: readFileSync(cert) } });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
      assert.deepEqual(seen, [`CONNECT 127.0.0.1:${(secure.address() as AddressInfo).port}`]);
      // Without trusting the test's certificate the TLS check refuses the host.
      await assert.rejects(httpFetch(url, { env: { HTTPS_PROXY: proxyUrl } }), /self[- ]signed|certificate/i);
    } finally {
      secure.closeAllConnections();
      await new Promise((r) => secure.close(r));
    }
  },
);
