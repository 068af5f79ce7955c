// `--web.config.file` in the Prometheus exporter-toolkit format: TLS and basic auth.
//   tls_server_config: { cert_file, key_file }
//   basic_auth_users: { <user>: <bcrypt hash> }
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import bcrypt from 'bcryptjs';
import { parse as parseYaml } from 'yaml';

export interface WebConfig {
  tls: { cert: Buffer; key: Buffer } | null;
  users: Map<string, string>;
}

export interface WebConfigText {
  tls: { certFile: string; keyFile: string } | null;
  users: Map<string, string>;
}

/** The file's text into settings; paths stay as written (relative to the file). */
export function parseWebConfig(text: string): WebConfigText {
  const doc = (parseYaml(text) ?? {}) as Record<string, unknown>;
  const known = new Set(['tls_server_config', 'basic_auth_users', 'http_server_config']);
  for (const k of Object.keys(doc)) if (!known.has(k)) throw new Error(`web config: unknown key ${k}`);
  let tls: WebConfigText['tls'] = null;
  const t = doc.tls_server_config as Record<string, unknown> | undefined;
  if (t) {
    if (typeof t.cert_file !== 'string' || typeof t.key_file !== 'string') {
      throw new Error('web config: tls_server_config needs cert_file and key_file');
    }
    tls = { certFile: t.cert_file, keyFile: t.key_file };
  }
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries((doc.basic_auth_users as Record<string, unknown>) ?? {})) {
    if (typeof hash !== 'string' || !/^\$2[aby]\$\d\d\$/.test(hash)) throw new Error(`web config: the password of ${user} is not a bcrypt hash`);
    users.set(user, hash);
  }
  return { tls, users };
}

export async function readWebConfig(path: string): Promise<WebConfig> {
  const parsed = parseWebConfig(await fsp.readFile(path, 'utf8'));
  const rel = (p: string) => resolve(dirname(path), p);
  const tls = parsed.tls ? { cert: await fsp.readFile(rel(parsed.tls.certFile)), key: await fsp.readFile(rel(parsed.tls.keyFile)) } : null;
  return { tls, users: parsed.users };
}

/**
 * Checks an `Authorization` header. bcrypt is slow by design, so a success is remembered (by a
 * hash of the credentials, never the password itself) and a scraper does not pay it every scrape.
 */
export class BasicAuth {
  private readonly verified = new Set<string>();

  constructor(private readonly users: Map<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  async check(header: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const hash = this.users.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${hash}\0${decoded}`).digest('hex');
    if (this.verified.has(key)) return true;
    // $2y$ (htpasswd) is the same algorithm as $2b$.
    const ok = await bcrypt.compare(decoded.slice(colon + 1), hash.replace(/^\$2y\$/, '$2b$'));
    if (ok) this.verified.add(key);
    return ok;
  }
}
