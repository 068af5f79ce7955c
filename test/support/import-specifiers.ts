// The module specifiers a TypeScript source names: `import … from 'x'`, `import 'x'`,
// `import type … from 'x'`, `export … from 'x'`, `import('x')` (in code and in `typeof import('x')`
// types), `require('x')` and `import x = require('x')`. A small tokenizer skips comments, strings,
// template literals and regular expressions, so that text that merely looks like an import does
// not count. A dynamic import or require of anything but a literal is reported with `spec: null`.

export interface Specifier {
  /** The specifier as written; null for `import(expr)` / `require(expr)` of a computed value. */
  spec: string | null;
  kind: 'import' | 'export-from' | 'dynamic-import' | 'require';
  line: number;
}

type Token =
  | { t: 'id'; v: string; line: number }
  | { t: 'str'; v: string; line: number }
  | { t: 'tpl'; v: string | null; line: number } // v: the text of a template without substitutions
  | { t: 'p'; v: string; line: number }
  | { t: 'other'; v: string; line: number };

const REGEX_AFTER_WORDS = new Set([
  'return', 'typeof', 'case', 'do', 'else', 'in', 'instanceof', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'of',
]);

const IDENT = /[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/uy;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  /** For each open `{`: whether it opened a template substitution (`${`). */
  const braces: boolean[] = [];
  const regexAllowed = (): boolean => {
    const last = out[out.length - 1];
    if (!last) return true;
    if (last.t === 'id') return REGEX_AFTER_WORDS.has(last.v);
    if (last.t === 'p') return last.v !== ')' && last.v !== ']';
    return false; // after a string, template, number or regex: division
  };
  const countLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (src.charCodeAt(k) === 10) line++;
  };
  /** Scans template text from i (just after ` or }) to its end or to a `${`; returns whether it ended. */
  const templateText = (): { ended: boolean; text: string } => {
    let text = '';
    while (i < src.length) {
      const c = src[i]!;
      if (c === '\\') {
        text += src.slice(i, i + 2);
        countLines(i, i + 2);
        i += 2;
      } else if (c === '`') {
        i++;
        return { ended: true, text };
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        braces.push(true);
        return { ended: false, text };
      } else {
        if (c === '\n') line++;
        text += c;
        i++;
      }
    }
    throw new Error(`unterminated template literal at line ${line}`);
  };

  while (i < src.length) {
    const c = src[i]!;
    const start = line;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || /\s/.test(c)) {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`unterminated comment at line ${line}`);
      countLines(i, end);
      i = end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          v += src[j + 1] ?? '';
          j += 2;
        } else {
          if (src[j] === '\n') throw new Error(`unterminated string at line ${line}`);
          v += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new Error(`unterminated string at line ${line}`);
      i = j + 1;
      out.push({ t: 'str', v, line: start });
    } else if (c === '`') {
      i++;
      const { ended, text } = templateText();
      out.push({ t: 'tpl', v: ended ? text : null, line: start });
    } else if (c === '}' && braces.length > 0 && braces[braces.length - 1] === true) {
      braces.pop();
      i++;
      templateText(); // the rest of the template, or up to its next substitution
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length) {
        const d = src[j]!;
        if (d === '\\') j += 2;
        else if (d === '\n') throw new Error(`unterminated regular expression at line ${line}`);
        else if (inClass) {
          if (d === ']') inClass = false;
          j++;
        } else if (d === '[') {
          inClass = true;
          j++;
        } else if (d === '/') break;
        else j++;
      }
      j++;
      while (j < src.length && /[a-z]/i.test(src[j]!)) j++;
      out.push({ t: 'other', v: src.slice(i, j), line: start });
      i = j;
    } else if (/[\p{ID_Start}$_]/u.test(c)) {
      IDENT.lastIndex = i;
      const v = IDENT.exec(src)![0];
      out.push({ t: 'id', v, line: start });
      i += v.length;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < src.length && /[\w.]/.test(src[j]!)) j++;
      out.push({ t: 'other', v: src.slice(i, j), line: start });
      i = j;
    } else {
      if (c === '{') braces.push(false);
      else if (c === '}') braces.pop();
      out.push({ t: 'p', v: c, line: start });
      i++;
    }
  }
  return out;
}

/** Declarations that may follow `export` and are no re-export. */
const EXPORT_DECLARATIONS = new Set([
  'const', 'let', 'var', 'function', 'class', 'interface', 'enum', 'default', 'async', 'abstract', 'declare', 'namespace', 'module', 'import',
]);

/** Tokens of an import or export clause: names, braces, commas, `*`, `as`, `type` (a statement that starts ends it). */
const inClause = (tok: Token | undefined): boolean =>
  !!tok && ((tok.t === 'id' && tok.v !== 'import' && tok.v !== 'export') || (tok.t === 'p' && ['{', '}', ',', '*'].includes(tok.v)));

/** Every module specifier of a TypeScript source, in order. */
export function moduleSpecifiers(src: string): Specifier[] {
  const toks = tokenize(src);
  const out: Specifier[] = [];
  const literal = (tok: Token | undefined): string | null | undefined =>
    tok?.t === 'str' ? tok.v : tok?.t === 'tpl' ? tok.v : undefined;
  /** From toks[k], a clause that ends in `from 'x'`: the index of the string, or -1. */
  const fromClause = (k: number): number => {
    for (let j = k; j < toks.length && inClause(toks[j]); j++) {
      const tok = toks[j]!;
      if (tok.t === 'id' && tok.v === 'from' && toks[j + 1]?.t === 'str') return j + 1;
    }
    return -1;
  };
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k]!;
    if (tok.t !== 'id') continue;
    const prev = toks[k - 1];
    if (prev?.t === 'p' && prev.v === '.') continue; // a property: x.import, x.require
    const next = toks[k + 1];
    if (tok.v === 'import') {
      if (next?.t === 'p' && next.v === '.') continue; // import.meta
      if (next?.t === 'p' && next.v === '(') {
        const arg = toks[k + 2];
        const after = toks[k + 3];
        const lit = literal(arg);
        const closed = after?.t === 'p' && (after.v === ')' || after.v === ',');
        out.push({ spec: lit !== undefined && closed ? lit : null, kind: 'dynamic-import', line: tok.line });
        continue;
      }
      if (next?.t === 'str') {
        out.push({ spec: next.v, kind: 'import', line: tok.line });
        continue;
      }
      const s = fromClause(k + 1);
      if (s >= 0) out.push({ spec: (toks[s] as { v: string }).v, kind: 'import', line: tok.line });
      // otherwise `import x = require('y')` (found as a require below) or `import x = A.B`
    } else if (tok.v === 'export') {
      if (next?.t === 'id' && EXPORT_DECLARATIONS.has(next.v)) continue;
      const third = toks[k + 2];
      if (next?.t === 'id' && next.v === 'type' && !(third?.t === 'p' && (third.v === '{' || third.v === '*'))) continue;
      const s = fromClause(k + 1);
      if (s >= 0) out.push({ spec: (toks[s] as { v: string }).v, kind: 'export-from', line: tok.line });
    } else if (tok.v === 'require' && next?.t === 'p' && next.v === '(') {
      const lit = literal(toks[k + 2]);
      const after = toks[k + 3];
      out.push({ spec: lit !== undefined && after?.t === 'p' && after.v === ')' ? lit : null, kind: 'require', line: tok.line });
    }
  }
  return out;
}
