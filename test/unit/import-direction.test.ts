// Import direction, read from the .ts sources (import/export-from, import(), require; type-only
// imports count too, since they tie the modules together all the same):
// - agent/model/** imports only agent/model/** and collectors/lib/**, plus node builtins that do no
//   I/O (PURE_BUILTINS); no npm package;
// - agent/render/** imports only agent/render/** and agent/model/**; npm packages (prom-client…)
//   are allowed, node builtins only when they do no I/O;
// - collectors/lib/** imports nothing outside collectors/lib (no builtin, no package);
// - collectors/** never imports agent/**.
// Every violation is named by file, line and specifier.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { moduleSpecifiers, type Specifier } from '../support/import-specifiers.js';
import { REPO_ROOT } from '../support/oracles.js';

/**
 * Node builtins that compute and do no I/O (no files, processes, threads, sockets, host facts).
 * Anything else, node:os and node:timers included, is not for the model or the renderers.
 */
const PURE_BUILTINS = new Set([
  'assert', 'assert/strict', 'buffer', 'crypto', 'events', 'path', 'path/posix', 'path/win32',
  'querystring', 'string_decoder', 'url', 'util', 'util/types',
]);
const BUILTINS = new Set(builtinModules);

/** A builtin's name without `node:`, or null for anything else. */
function builtin(spec: string): string | null {
  if (spec.startsWith('node:')) return spec.slice('node:'.length);
  return BUILTINS.has(spec) ? spec : null;
}

const isRelative = (spec: string) => spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/');

interface Source {
  /** Relative to the repository root, with forward slashes. */
  file: string;
  specifiers: Specifier[];
}

const read = new Map<string, Source[]>();

/** Every TypeScript source under `dir` (relative to the repository root), read once. */
function sourcesUnder(dir: string): Source[] {
  const known = read.get(dir);
  if (known) return known;
  const out: Source[] = [];
  const visit = (abs: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = path.join(abs, e.name);
      if (e.isDirectory()) visit(p);
      else if (/\.[cm]?tsx?$/.test(e.name)) {
        out.push({ file: path.relative(REPO_ROOT, p).split(path.sep).join('/'), specifiers: moduleSpecifiers(readFileSync(p, 'utf8')) });
      }
    }
  };
  visit(path.join(REPO_ROOT, dir));
  out.sort((a, b) => (a.file < b.file ? -1 : 1));
  read.set(dir, out);
  return out;
}

/** Where a relative specifier of `file` points, relative to the repository root. */
function target(file: string, spec: string): string {
  const abs = spec.startsWith('/') ? spec : path.resolve(REPO_ROOT, path.dirname(file), spec);
  return path.relative(REPO_ROOT, abs).split(path.sep).join('/');
}

const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

interface Rule {
  /** The files the rule is about. */
  under: string;
  /** Directories their relative imports may point into. */
  dirs: string[];
  /** Which node builtins: those of PURE_BUILTINS, every one, or none. */
  builtins: 'pure' | 'any' | 'none';
  packages: boolean;
}

/** Every import of every file under `rule.under` that the rule forbids, as `file:line: 'spec' (why)`. */
function violations(rule: Rule): string[] {
  const out: string[] = [];
  for (const { file, specifiers } of sourcesUnder(rule.under)) {
    for (const { spec, kind, line } of specifiers) {
      const at = `${file}:${line}`;
      if (spec === null) {
        out.push(`${at}: ${kind} of a computed specifier (cannot be checked)`);
        continue;
      }
      if (isRelative(spec)) {
        const to = target(file, spec);
        if (!rule.dirs.some((d) => inside(to, d))) out.push(`${at}: '${spec}' (${to} is outside ${rule.dirs.join(' and ')})`);
        continue;
      }
      const name = builtin(spec);
      if (name !== null) {
        if (rule.builtins === 'none') out.push(`${at}: '${spec}' (a node builtin)`);
        else if (rule.builtins === 'pure' && !PURE_BUILTINS.has(name)) out.push(`${at}: '${spec}' (a node builtin that does I/O)`);
        continue;
      }
      if (!rule.packages) out.push(`${at}: '${spec}' (an npm package)`);
    }
  }
  return out;
}

describe('import direction', () => {
  it('agent/model imports only agent/model, collectors/lib and node builtins without I/O; no npm package', () => {
    assert.deepEqual(violations({ under: 'agent/model', dirs: ['agent/model', 'collectors/lib'], builtins: 'pure', packages: false }), []);
  });

  it('agent/render imports only agent/render and agent/model (npm packages allowed; node builtins without I/O)', () => {
    assert.deepEqual(violations({ under: 'agent/render', dirs: ['agent/render', 'agent/model'], builtins: 'pure', packages: true }), []);
  });

  it('collectors/lib imports nothing outside collectors/lib, and no builtin that does I/O', () => {
    assert.deepEqual(violations({ under: 'collectors/lib', dirs: ['collectors/lib'], builtins: 'pure', packages: false }), []);
  });

  it('collectors never imports agent', () => {
    const out: string[] = [];
    for (const { file, specifiers } of sourcesUnder('collectors')) {
      for (const { spec, kind, line } of specifiers) {
        if (spec === null) out.push(`${file}:${line}: ${kind} of a computed specifier (cannot be checked)`);
        else if (isRelative(spec) && inside(target(file, spec), 'agent')) out.push(`${file}:${line}: '${spec}' (${target(file, spec)} is agent code)`);
      }
    }
    assert.deepEqual(out, []);
  });

  it('reads every source: each directory of the rules has files, and each file of agent/model names its imports', () => {
    for (const dir of ['agent/model', 'agent/render', 'collectors/lib', 'collectors']) assert.ok(sourcesUnder(dir).length > 0, dir);
    const model = sourcesUnder('agent/model');
    for (const s of model) {
      const text = readFileSync(path.join(REPO_ROOT, s.file), 'utf8');
      // Every line that starts an import or re-export statement gave one specifier at least.
      const statements = text.split('\n').filter((l) => /^(import|export)\b.*\bfrom\b/.test(l)).length;
      assert.ok(s.specifiers.length >= statements, `${s.file}: ${s.specifiers.length} specifiers for ${statements} import lines`);
    }
  });
});

describe('moduleSpecifiers (the reader of import statements)', () => {
  const specs = (src: string) => moduleSpecifiers(src).map((s) => [s.kind, s.spec]);

  it('reads static, type-only, side-effect, multi-line and re-export forms', () => {
    const src = [
      "import a from 'a';",
      "import * as b from \"b\";",
      "import { c, type C } from './c.js';",
      "import type { D } from '../d.js';",
      "import 'side-effect';",
      'import {',
      '  e1,',
      '  e2 as from,',
      "} from './e.js';",
      "import { from } from 'f';",
      "export * from './g.js';",
      "export * as h from './h.js';",
      "export { i } from './i.js';",
      "export type { J } from './j.js';",
      'export { k };',
      "export const from2 = 'not-a-module';",
      "export type L = import('./l.js').L;",
    ].join('\n');
    assert.deepEqual(specs(src), [
      ['import', 'a'],
      ['import', 'b'],
      ['import', './c.js'],
      ['import', '../d.js'],
      ['import', 'side-effect'],
      ['import', './e.js'],
      ['import', 'f'],
      ['export-from', './g.js'],
      ['export-from', './h.js'],
      ['export-from', './i.js'],
      ['export-from', './j.js'],
      ['dynamic-import', './l.js'],
    ]);
  });

  it('reads dynamic imports and requires, and reports those of a computed specifier', () => {
    const src = [
      "const m = await import('dockerode');",
      'const t = await import(`./tpl.js`);',
      'const u = await import(name);',
      "const v = await import('./x' + suffix);",
      "let x: typeof import('@napi-rs/xattr') | null = null;",
      "import fs = require('node:fs');",
      "const y = require('yaml');",
      'const url = import.meta.url;',
      "obj.import('not-this'); obj.require('nor-this');",
    ].join('\n');
    assert.deepEqual(specs(src), [
      ['dynamic-import', 'dockerode'],
      ['dynamic-import', './tpl.js'],
      ['dynamic-import', null],
      ['dynamic-import', null],
      ['dynamic-import', '@napi-rs/xattr'],
      ['require', 'node:fs'],
      ['require', 'yaml'],
    ]);
  });

  it('skips what only looks like an import: comments, strings, templates, regular expressions', () => {
    const src = [
      "// import a from 'commented';",
      "/* import b from 'block';",
      "   export * from 'block2'; */",
      "const s = \"import c from 'in-a-string'\";",
      "const t = `import d from 'in-a-template' ${x ? `import('nested')` : ''} and ${ { k: 1 }.k }`;",
      "const r = /import e from 'in-a-regex'/g;",
      "const q = a / b; import real from 'real';",
      "const w = x ? /[/]import('re')/ : 0;",
    ].join('\n');
    assert.deepEqual(specs(src), [['import', 'real']]);
  });

  it('gives the line of each statement', () => {
    const lines = moduleSpecifiers("// one\nimport a from 'a';\n\n/*\n*/\nexport * from 'b';\nconst c = `\n`; import('c');").map((s) => s.line);
    assert.deepEqual(lines, [2, 6, 8]);
  });
});
