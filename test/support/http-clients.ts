// Raw HTTP clients for the serving tests and bench: a slowloris (a header byte at a time, or
// nothing at all) and one request written by hand, its body as long or as slow as asked.
import net from 'node:net';
import tls from 'node:tls';

export interface SlowEnd {
  /** From the connection (TLS: the handshake done) to the server closing it. */
  closedAfterMs: number;
  bytesSent: number;
  /** What the server said before closing (a 408, or nothing). */
  answer: string;
}

function connect(port: number, secure: { ca: Buffer } | undefined, onReady: () => void): net.Socket {
  const sock = secure ? tls.connect({ port, host: '127.0.0.1', ca: secure.ca }, onReady) : net.connect({ port, host: '127.0.0.1' }, onReady);
  sock.on('error', () => undefined);
  return sock;
}

/** Opens a request and sends its headers one byte every `byteEveryMs` (0: sends nothing), never ending them. */
export function slowloris(port: number, opts: { byteEveryMs: number; tls?: { ca: Buffer } }): Promise<SlowEnd> {
  const text = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(4096)}`;
  return new Promise((resolve) => {
    let start = performance.now();
    let sent = 0;
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const sock = connect(port, opts.tls, () => {
      start = performance.now();
      if (opts.byteEveryMs <= 0) return;
      timer = setInterval(() => {
        if (sent < text.length && sock.writable) sock.write(text[sent++]!);
      }, opts.byteEveryMs);
    });
    sock.on('data', (b: Buffer) => (answer += b.toString('latin1')));
    sock.once('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: performance.now() - start, bytesSent: sent, answer });
    });
  });
}

export interface RawAnswer {
  status: number;
  head: string;
  body: string;
  /** Body bytes the client had written when the answer came (or the socket closed). */
  bodyBytesSent: number;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** A chunked body of `totalBytes`, written `chunkBytes` at a time as the socket drains, until the answer comes. */
  chunked?: { chunkBytes: number; totalBytes: number };
  tls?: { ca: Buffer };
}

export function rawRequest(port: number, r: RawRequest): Promise<RawAnswer> {
  const headers = { Host: '127.0.0.1', Connection: 'close', ...r.headers };
  const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    let answer = Buffer.alloc(0);
    let sent = 0;
    let answered = false;
    const writeChunks = async (chunked: NonNullable<RawRequest['chunked']>) => {
      const chunk = Buffer.concat([Buffer.from(`${chunked.chunkBytes.toString(16)}\r\n`), Buffer.alloc(chunked.chunkBytes, 'b'), Buffer.from('\r\n')]);
      while (!answered && sent < chunked.totalBytes && sock.writable) {
        sent += chunked.chunkBytes;
        if (!sock.write(chunk)) await new Promise<void>((res) => { sock.once('drain', res); sock.once('close', res); });
      }
      if (!answered && sock.writable) sock.write('0\r\n\r\n');
    };
    const sock = connect(port, r.tls, () => {
      sock.write(head);
      if (r.body) {
        sock.write(r.body);
        sent = r.body.length;
      }
      if (r.chunked) void writeChunks(r.chunked);
    });
    sock.on('data', (b: Buffer) => {
      answered = true;
      answer = Buffer.concat([answer, b]);
    });
    sock.once('close', () => {
      const text = answer.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      if (!status) reject(new Error(`${r.method} ${r.path}: no answer`));
      else resolve({ status, head: end < 0 ? text : text.slice(0, end), body: end < 0 ? '' : text.slice(end + 4), bodyBytesSent: sent });
    });
  });
}
