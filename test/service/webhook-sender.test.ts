import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isPrivateAddress,
  loggableUrl,
  postJson,
  resolvesToPrivate,
} from '../../functions/service/adapters/webhook-sender.ts';

/** Webhooks in AWS go to public addresses only (no requests into the VPC on a caller's behalf); locally anywhere. */
describe('the webhook sender', () => {
  let server: Server;
  let url: string;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('knows private, loopback, link-local and metadata addresses from public ones', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '52.95.110.1', '172.32.0.1', '2600:1f18::1'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it('posts locally when private targets are allowed, and refuses them when not, by literal address or by name', async () => {
    expect(
      await postJson(url, '{"a":1}', { 'content-type': 'application/json' }, { allowPrivate: true, timeoutMs: 2000 }),
    ).toBe(204);
    expect(received).toEqual(['{"a":1}']);
    await expect(postJson(url, '{}', {}, { allowPrivate: false, timeoutMs: 2000 })).rejects.toThrow(/private address/);
    await expect(
      postJson(url.replace('127.0.0.1', 'localhost'), '{}', {}, { allowPrivate: false, timeoutMs: 2000 }),
    ).rejects.toThrow(/private address/);
    expect(received).toHaveLength(1);
    expect(await resolvesToPrivate('http://localhost:9/x')).toBe(true);
    expect(await resolvesToPrivate('http://169.254.169.254/latest/meta-data')).toBe(true);
  });

  it('logs a URL without its user info or query', () => {
    expect(loggableUrl('https://user:pass@hooks.example.com/in?token=secret')).toBe('https://hooks.example.com/in');
  });
});
