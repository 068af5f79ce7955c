import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { formatLogfmt } from '../../agent/serve/log.js';
import { parseListenAddress } from '../../agent/serve/server.js';
import { BasicAuth, parseWebConfig } from '../../agent/serve/web-config.js';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('web config (exporter-toolkit format)', () => {
  it('reads TLS files and bcrypt users', () => {
    const c = parseWebConfig('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\nbasic_auth_users:\n  prom: $2y$10$abcdefghijklmnopqrstuv1234567890ABCDEFGHIJKLMNOPQRSTU\n');
    assert.deepEqual(c.tls, { certFile: 'a.crt', keyFile: 'a.key' });
    assert.deepEqual([...c.users.keys()], ['prom']);
  });

  it('refuses unknown keys, plain passwords and half a TLS config', () => {
    assert.throws(() => parseWebConfig('tls_config: {}\n'), /unknown key tls_config/);
    assert.throws(() => parseWebConfig('basic_auth_users:\n  prom: secret\n'), /not a bcrypt hash/);
    assert.throws(() => parseWebConfig('tls_server_config:\n  cert_file: a.crt\n'), /cert_file and key_file/);
    assert.deepEqual(parseWebConfig('').users.size, 0);
  });

  it('checks basic auth against bcrypt hashes, $2y$ included', async () => {
    const hash = bcrypt.hashSync('s3cret', 4).replace(/^\$2[ab]\$/, '$2y$');
    const auth = new BasicAuth(new Map([['prom', hash]]));
    assert.equal(await auth.check(basic('prom', 's3cret')), true);
    assert.equal(await auth.check(basic('prom', 's3cret')), true, 'remembered');
    assert.equal(await auth.check(basic('prom', 'wrong')), false);
    assert.equal(await auth.check(basic('other', 's3cret')), false);
    assert.equal(await auth.check(undefined), false);
    assert.equal(await auth.check('Bearer x'), false);
    assert.equal(await new BasicAuth(new Map()).check(undefined), true, 'no users: no auth');
  });
});

describe('listen address and log lines', () => {
  it('parses host:port, :port and [v6]:port; refuses the rest', () => {
    assert.deepEqual(parseListenAddress(':9786'), { host: undefined, port: 9786 });
    assert.deepEqual(parseListenAddress('127.0.0.1:9786'), { host: '127.0.0.1', port: 9786 });
    assert.deepEqual(parseListenAddress('[::1]:9786'), { host: '::1', port: 9786 });
    for (const bad of ['9786', 'localhost', 'host:99999', 'host:port']) assert.throws(() => parseListenAddress(bad), /listen-address/);
  });

  it('writes one logfmt line, quoting only what needs it', () => {
    const line = formatLogfmt('warn', 'slow scan', { duration_s: '61.2', path: '/var/lib/docker', note: 'two words' }, new Date('2026-11-23T12:00:00Z'));
    assert.equal(line, 'ts=2026-11-23T12:00:00.000Z level=warn msg="slow scan" duration_s=61.2 path=/var/lib/docker note="two words"');
    assert.doesNotMatch(formatLogfmt('info', 'a\nb'), /\n/);
  });
});
