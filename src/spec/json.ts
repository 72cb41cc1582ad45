// JSON.parse with an error that says where: `config.json: invalid JSON at line 3, column 5: unexpected token '}'`.
// JSON.parse does the work; only when it fails does a small scanner walk the text to find the first
// fault, because V8's messages differ between versions and do not always give a position.
import { ConfigError } from '../errors.ts';

/** Parses `text`; on a syntax error throws ConfigError `<source>: invalid JSON at line L, column C: <what>`. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const fault = findJsonFault(text) ?? { offset: 0, message: 'not valid JSON' };
    const { line, column } = lineAndColumn(text, fault.offset);
    throw new ConfigError([`${source}: invalid JSON at line ${line}, column ${column}: ${fault.message}`], { cause: err });
  }
}

export interface JsonFault {
  /** Offset (UTF-16 code units) of the first character that makes the text invalid. */
  offset: number;
  message: string;
}

/** 1-based line and column (in characters) of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: Array.from(text.slice(lineStart, offset)).length + 1 };
}

class Fault extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** The first syntax error of `text` as RFC 8259 JSON, or undefined when it is valid. */
export function findJsonFault(text: string): JsonFault | undefined {
  let i = 0;
  const describe = (at: number): string => {
    if (at >= text.length) return 'unexpected end of input';
    const ch = String.fromCodePoint(text.codePointAt(at)!);
    return `unexpected token '${ch < ' ' ? JSON.stringify(ch).slice(1, -1) : ch}'`;
  };
  const fail = (at: number, message = describe(at)): never => {
    throw new Fault(at, at >= text.length ? 'unexpected end of input' : message);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) fail(i);
  };
  const string = () => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail(start, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 0x20) fail(i, 'control character in string (escape it)');
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i, 'invalid \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail(i, 'invalid escape in string');
        }
        continue;
      }
      i++;
    }
  };
  // Sticky: matched where the scanner is, without copying the rest of the text (a slice per number
  // made a 2 MB array of numbers take 1.6 s).
  const numberAt = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const number = () => {
    numberAt.lastIndex = i;
    const m = numberAt.exec(text);
    if (!m || m[0] === '-') fail(i, 'invalid number');
    i += m![0].length;
    if (i < text.length && /[0-9.eE+-]/.test(text[i]!)) fail(i, 'invalid number');
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(i);
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') {
        fail(i, text[i] === '}' ? "trailing comma before '}'" : `${describe(i)}: expected a property name in double quotes`);
      }
      string();
      ws();
      if (text[i] !== ':') fail(i, `${describe(i)}: expected ':' after the property name`);
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(i, `${describe(i)}: expected ',' or '}'`);
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === ']') fail(i, "trailing comma before ']'");
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(i, `${describe(i)}: expected ',' or ']'`);
    }
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) fail(0, 'byte order mark (BOM) at the start: save the file without it');
    value();
    ws();
    if (i < text.length) fail(i, `${describe(i)} after the end of the JSON value`);
    return undefined;
  } catch (err) {
    if (err instanceof Fault) return { offset: err.offset, message: err.message };
    if (err instanceof RangeError) return { offset: i, message: 'nested too deeply' };
    throw err;
  }
}
