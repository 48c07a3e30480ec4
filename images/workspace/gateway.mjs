// The workspace gateway: the one port of a workspace that the platform's proxy reaches, and the lock on it.
//
// Runs as the workspace container's main process (on the node of the IDE bundle, so in any image). Every request must
// carry the workspace's secret in X-CDE-Gateway-Secret, which only the proxy holds (it never reaches a browser); the
// rest are refused with 401 before anything inside the workspace sees them. X-CDE-Target names where the request goes:
// "ide" for the IDE (code-server, listening on loopback only), or a port number for a program of the user's, which
// may listen on loopback or on any address. Both headers are removed before the request is passed on. WebSockets and
// other upgrades are passed through as raw streams.
//
//   CDE_GATEWAY_PORT=61100 CDE_GATEWAY_IDE_PORT=13337 CDE_GATEWAY_SECRET=... node gateway.mjs
import http from 'node:http';
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';

const SECRET_HEADER = 'x-cde-gateway-secret';
const TARGET_HEADER = 'x-cde-target';

function requiredPort(name) {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`cde-gateway: ${name} must be a TCP port`);
    process.exit(2);
  }
  return value;
}

const port = requiredPort('CDE_GATEWAY_PORT');
const idePort = requiredPort('CDE_GATEWAY_IDE_PORT');
const secret = Buffer.from(process.env.CDE_GATEWAY_SECRET ?? '', 'utf8');
if (secret.length < 32) {
  console.error('cde-gateway: CDE_GATEWAY_SECRET must hold at least 32 characters');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 16 });

/** The port a request may reach, or an error to answer with. */
function route(req) {
  const sent = Buffer.from(String(req.headers[SECRET_HEADER] ?? ''), 'utf8');
  if (sent.length !== secret.length || !timingSafeEqual(sent, secret)) {
    return { status: 401, message: 'This port answers the CloudDevEnv proxy only.' };
  }
  const target = String(req.headers[TARGET_HEADER] ?? '');
  if (target === 'ide') {
    return { port: idePort };
  }
  if (!/^[1-9][0-9]{0,4}$/.test(target) || Number(target) > 65535) {
    return { status: 400, message: 'No target port.' };
  }
  const wanted = Number(target);
  if (wanted === idePort || wanted === port) {
    // The IDE is reached on its own host only, where its visibility rules apply.
    return { status: 403, message: `Port ${wanted} is reserved by the workspace.` };
  }
  return { port: wanted };
}

function forwardedHeaders(req) {
  const headers = { ...req.headers };
  delete headers[SECRET_HEADER];
  delete headers[TARGET_HEADER];
  return headers;
}

function refuse(res, status, message, extra = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(message + '\n');
}

const server = http.createServer((req, res) => {
  const r = route(req);
  if (r.status) {
    refuse(res, r.status, r.message);
    return;
  }
  const upstream = http.request(
    { host: '127.0.0.1', port: r.port, method: req.method, path: req.url, headers: forwardedHeaders(req), agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
  upstream.on('error', (error) => {
    if (!res.headersSent) {
      refuse(res, 502, `Nothing answers on port ${r.port} in this workspace (${error.code ?? error.message}).`, { 'x-cde-gateway': 'no-listener' });
    } else {
      res.destroy();
    }
  });
  req.pipe(upstream);
});

server.on('upgrade', (req, socket, head) => {
  const r = route(req);
  if (r.status) {
    socket.end(`HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${r.message}\n`);
    return;
  }
  const upstream = net.connect(r.port, '127.0.0.1', () => {
    const headers = forwardedHeaders(req);
    let head_ = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        head_ += `${name}: ${v}\r\n`;
      }
    }
    upstream.write(head_ + '\r\n');
    if (head.length > 0) {
      upstream.write(head);
    }
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => {
    if (socket.writable) {
      socket.end(`HTTP/1.1 502 Bad Gateway\r\nx-cde-gateway: no-listener\r\nconnection: close\r\n\r\nNothing answers on port ${r.port} in this workspace.\n`);
    }
  });
  socket.on('error', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
});

// Long-lived responses (event streams, long polls) and slow uploads are the user's programs' business.
server.requestTimeout = 0;
server.keepAliveTimeout = 65_000;
server.listen(port, '0.0.0.0', () => console.log(`cde-gateway: listening on ${port}, IDE on 127.0.0.1:${idePort}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
