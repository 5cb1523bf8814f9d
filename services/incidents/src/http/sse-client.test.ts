import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseClient, type SseDropReason, type SseLimits } from './sse-client.js';

const CHUNK = `data: ${'x'.repeat(64 * 1024)}\n\n`;

/** An HTTP server whose one response is handed to `onResponse` as an SseClient with `limits`; drops are recorded. */
async function streamServer(limits: SseLimits, onResponse: (client: SseClient, res: ServerResponse) => void) {
  const drops: SseDropReason[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    onResponse(new SseClient(res, limits, (reason) => drops.push(reason)), res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, drops, port: (server.address() as AddressInfo).port };
}

/** A client that sends the request and then never reads: the kernel's buffers fill, then the server's. */
async function stalledClient(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.pause();
  socket.write('GET /api/stream HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  return socket;
}

/** Waits until the server has dropped the client, then reads on (a paused socket would never see the close) until it closes. */
async function dropped(socket: Socket, drops: readonly SseDropReason[]): Promise<void> {
  while (drops.length === 0) await new Promise((r) => setTimeout(r, 20));
  const closed = new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  socket.resume();
  await closed;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

describe('SseClient over a real socket', () => {
  it('disconnects a client whose socket buffer stays full past slowClientMs', async () => {
    let client: SseClient | undefined;
    const s = await streamServer({ slowClientMs: 300, maxBufferBytes: 256 * 1024 * 1024 }, (c, res) => {
      client = c;
      // A writer that respects backpressure: it writes while the buffer has room and again on each drain, until the
      // kernel's buffers are full too and the drain stops coming.
      const pump = () => {
        while (c.state === 'open') c.write(CHUNK);
      };
      res.on('drain', pump);
      pump();
    });
    server = s.server;
    const socket = await stalledClient(s.port);
    socket.on('error', () => undefined);
    await dropped(socket, s.drops);
    expect(s.drops).toEqual(['slow']);
    expect(client?.state).toBe('closed');
    expect(client?.write('data: late\n\n')).toBe(false);
  });

  it('disconnects at once a client with more than maxBufferBytes waiting, whatever the clock', async () => {
    const s = await streamServer({ slowClientMs: 3_600_000, maxBufferBytes: 512 * 1024 }, (c) => {
      // Broadcasts do not wait for one client: each change is written as it comes.
      const pump = () => {
        for (let i = 0; i < 16 && c.write(CHUNK); i++);
        if (c.state !== 'closed') setImmediate(pump);
      };
      pump();
    });
    server = s.server;
    const socket = await stalledClient(s.port);
    socket.on('error', () => undefined);
    await dropped(socket, s.drops);
    expect(s.drops).toEqual(['buffer_full']);
  });

  it('keeps a client that reads, however much it is sent', async () => {
    const total = 400;
    let sent = 0;
    let serverSide: SseClient | undefined;
    const s = await streamServer({ slowClientMs: 60_000, maxBufferBytes: 512 * 1024 }, (c, res) => {
      serverSide = c;
      const pump = () => {
        while (sent < total && c.state === 'open') {
          c.write(CHUNK);
          sent++;
        }
        if (sent === total) c.end();
      };
      res.on('drain', pump);
      pump();
    });
    server = s.server;
    const res = await fetch(`http://127.0.0.1:${s.port}/`);
    const bytes = (await res.arrayBuffer()).byteLength;
    expect(bytes).toBe(total * Buffer.byteLength(CHUNK));
    expect(s.drops).toEqual([]);
    expect(serverSide?.state).toBe('closed');
  });
});
