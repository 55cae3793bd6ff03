/**
 * Parser for the Go text/template language, following the grammar and the
 * error messages of Go's text/template/parse (Go 1.23): pipelines, variable
 * declarations and assignments, if/else if/else, with/else with/else,
 * range/else with break and continue, parenthesized pipelines, chained fields.
 * `define`, `template` and `block` (multi-template sets) are not supported.
 */
import type {
  BoolNode,
  ChainNode,
  CommandNode,
  FieldNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  StringNode,
  VariableNode,
} from './ast.js';
import { nodeString } from './ast.js';
import { PositionedError } from './errors.js';
import { quote } from './gostrings.js';
import { lex, tokenString, type Token, type TokenType } from './lexer.js';
import { MAX_DEPTH, MAX_TEMPLATE_SIZE, formatSize } from './limits.js';

/** Internal markers returned by itemList for `{{end}}` and `{{else}}`. */
interface EndMarker { readonly type: 'end'; readonly pos: number }
interface ElseMarker { readonly type: 'else'; readonly pos: number }
type ParsedItem = Node | EndMarker | ElseMarker;

function markerString(n: ParsedItem): string {
  if (n.type === 'end') return '{{end}}';
  if (n.type === 'else') return '{{else}}';
  return nodeString(n);
}

export function parse(text: string, isFunction: (name: string) => boolean): ListNode {
  if (text.length > MAX_TEMPLATE_SIZE) {
    throw new PositionedError(`template is larger than ${formatSize(MAX_TEMPLATE_SIZE)} (${formatSize(text.length)} characters)`, 0);
  }
  return new Parser(text, lex(text), isFunction).parse();
}

const OPERAND_START = new Set<TokenType>([
  'bool', 'charConstant', 'complex', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen',
]);

class Parser {
  private i = 0;
  private last: Token;
  /** Declared variables in scope order; `varCount` answers "is $x declared" in O(1). */
  private vars: string[] = ['$'];
  private readonly varCount = new Map<string, number>([['$', 1]]);
  private rangeDepth = 0;
  /** Nesting of pipelines and control blocks: bounded so hostile input cannot overflow the stack. */
  private depth = 0;
  /** Offsets where lines start, built on first use: line numbers in O(log n). */
  private lineStarts: number[] | undefined;
  /** Line of the `{{` of the action being parsed, 0 outside actions. */
  private actionLine = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly isFunction: (name: string) => boolean,
  ) {
    this.last = tokens[0]!;
  }

  // --- bookkeeping ----------------------------------------------------------

  private declare(name: string): void {
    this.vars.push(name);
    this.varCount.set(name, (this.varCount.get(name) ?? 0) + 1);
  }
  private truncateVars(length: number): void {
    while (this.vars.length > length) {
      const name = this.vars.pop()!;
      const n = this.varCount.get(name)! - 1;
      if (n === 0) this.varCount.delete(name);
      else this.varCount.set(name, n);
    }
  }
  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) this.errorf(`template nesting is deeper than ${MAX_DEPTH} levels`, pos);
  }
  private lineOf(pos: number): number {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  // --- token stream -------------------------------------------------------

  private at(i: number): Token {
    return this.tokens[Math.min(i, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.at(this.i++);
    this.last = t;
    return t;
  }
  private backup(): void {
    this.i--;
  }
  private peek(): Token {
    return this.at(this.i);
  }
  private nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.type === 'space');
    return t;
  }
  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private errorf(message: string, pos: number = this.last.pos): never {
    throw new PositionedError(message, pos);
  }
  private unexpected(token: Token, context: string): never {
    if (token.type === 'error') {
      // A scan error is reported as is, noting where a multi-line action began.
      let extra = '';
      const line = this.lineOf(token.pos);
      if (this.actionLine !== 0 && this.actionLine !== line) {
        extra = token.val.endsWith(' action') ? ` started at line ${this.actionLine}` : ` in action started at line ${this.actionLine}`;
      }
      this.errorf(token.val + extra, token.pos);
    }
    this.errorf(`unexpected ${tokenString(token)} in ${context}`, token.pos);
  }
  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  // --- grammar ------------------------------------------------------------

  parse(): ListNode {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${markerString(n)}`, n.pos);
      root.nodes.push(n);
    }
    return root;
  }

  private itemList(): [ListNode, EndMarker | ElseMarker] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): ParsedItem {
    const token = this.nextNonSpace();
    if (token.type === 'text') return { type: 'text', pos: token.pos, text: token.val };
    if (token.type === 'leftDelim') {
      this.actionLine = this.lineOf(token.pos);
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(token, 'input');
  }

  private action(): ParsedItem {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'else': return this.elseControl();
      case 'end': return this.endControl();
      case 'if': return this.branchControl('if', token.pos);
      case 'range': return this.branchControl('range', token.pos);
      case 'with': return this.branchControl('with', token.pos);
      case 'break':
      case 'continue': return this.loopControl(token);
      case 'block':
      case 'template':
      case 'define':
        this.errorf(`{{${token.val}}} is not supported (one template per field)`, token.pos);
    }
    this.backup();
    const pos = this.peek().pos;
    return { type: 'action', pos, pipe: this.pipeline('command') };
  }

  private pipeline(context: string): PipeNode {
    const first = this.peekNonSpace();
    this.enter(first.pos);
    try {
      return this.pipelineBody(context, first);
    } finally {
      this.depth--;
    }
  }

  private pipelineBody(context: string, first: Token): PipeNode {
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const beforeVar = this.i;
      this.next();
      const nxt = this.peekNonSpace();
      if (nxt.type === 'assign' || nxt.type === 'declare') {
        pipe.isAssign = nxt.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
        this.declare(v.val);
        break;
      }
      if (nxt.type === 'char' && nxt.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
        this.declare(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: the variable starts the first command.
      this.i = beforeVar;
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === 'rightDelim' || token.type === 'rightParen') {
        this.checkPipeline(pipe, context);
        if (token.type === 'rightParen') this.backup();
        return pipe;
      }
      if (OPERAND_START.has(token.type)) {
        this.backup();
        pipe.cmds.push(this.command());
        continue;
      }
      this.unexpected(token, context);
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const first = pipe.cmds[i]!.args[0]!;
      switch (first.type) {
        case 'bool':
        case 'dot':
        case 'nil':
        case 'number':
        case 'string':
          this.errorf(`non executable command in pipeline stage ${i + 1}`, first.pos);
      }
    }
  }

  private branchControl(context: 'if' | 'range' | 'with', pos: number): Node {
    const varsLen = this.vars.length;
    this.enter(pos);
    try {
      const pipe = this.pipeline(context);
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.type === 'else') {
        const chained = (context === 'if' && this.peek().type === 'if') || (context === 'with' && this.peek().type === 'with');
        if (chained) {
          // {{if a}}…{{else if b}}…{{end}} is {{if a}}…{{else}}{{if b}}…{{end}}{{end}}; one {{end}} closes both.
          const kw = this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.branchControl(context, kw.pos)] };
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${markerString(next)}`, next.pos);
        }
      }
      return { type: context, pos, pipe, list, elseList };
    } finally {
      this.depth--;
      this.truncateVars(varsLen);
    }
  }

  private loopControl(token: Token): Node {
    const kw = token.type as 'break' | 'continue';
    const t = this.nextNonSpace();
    if (t.type !== 'rightDelim') this.unexpected(t, `{{${kw}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kw}}} outside {{range}}`, token.pos);
    return { type: kw, pos: token.pos };
  }

  private endControl(): EndMarker {
    return { type: 'end', pos: this.expect('rightDelim', 'end').pos };
  }

  private elseControl(): ElseMarker {
    const peek = this.peekNonSpace();
    if (peek.type === 'if' || peek.type === 'with') return { type: 'else', pos: peek.pos };
    return { type: 'else', pos: this.expect('rightDelim', 'else').pos };
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'error') this.unexpected(token, 'operand');
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.errorf(`unexpected ${tokenString(token)} in operand`, token.pos);
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Node | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== 'field') return node;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: node.pos, ident: [...node.ident, ...fields] } satisfies FieldNode;
      case 'variable':
        return { type: 'variable', pos: node.pos, ident: [...node.ident, ...fields] } satisfies VariableNode;
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
    }
    return { type: 'chain', pos: node.pos, node, field: fields } satisfies ChainNode;
  }

  private term(): Node | undefined {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'error':
        this.unexpected(token, 'operand');
      case 'identifier':
        if (!this.isFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`, token.pos);
        return { type: 'identifier', pos: token.pos, ident: token.val };
      case 'dot':
        return { type: 'dot', pos: token.pos };
      case 'nil':
        return { type: 'nil', pos: token.pos };
      case 'variable':
        if (!this.varCount.has(token.val)) this.errorf(`undefined variable ${quote(token.val)}`, token.pos);
        return { type: 'variable', pos: token.pos, ident: [token.val] };
      case 'field':
        return { type: 'field', pos: token.pos, ident: [token.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: token.pos, value: token.val === 'true' } satisfies BoolNode;
      case 'charConstant':
      case 'complex':
      case 'number':
        return this.number(token);
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline');
        const close = this.next();
        if (close.type !== 'rightParen') this.errorf(`unclosed right paren: unexpected ${tokenString(close)}`, close.pos);
        return pipe;
      }
      case 'string':
      case 'rawString':
        return { type: 'string', pos: token.pos, quoted: token.val, text: this.unquote(token) } satisfies StringNode;
    }
    this.backup();
    return undefined;
  }

  private unquote(token: Token): string {
    const s = unquoteGo(token.val);
    if (s === undefined) this.errorf('invalid syntax', token.pos);
    return s;
  }

  private number(token: Token): NumberNode {
    const text = token.val;
    if (token.type === 'complex' || text.endsWith('i')) this.errorf(`complex numbers are not supported: ${text}`, token.pos);
    if (token.type === 'charConstant') {
      const s = unquoteGo(text);
      const cps = s === undefined ? [] : Array.from(s);
      if (cps.length !== 1) this.errorf(`malformed character constant: ${text}`, token.pos);
      return { type: 'number', pos: token.pos, text, value: cps[0]!.codePointAt(0)!, isInt: true };
    }
    const int = parseGoInt(text);
    if (int !== undefined) {
      if (int > 9223372036854775807n || int < -9223372036854775808n) this.errorf(`integer overflow: ${quote(text)}`, token.pos);
      return { type: 'number', pos: token.pos, text, value: Number(int), isInt: true };
    }
    const f = parseGoFloat(text);
    if (f === undefined) this.errorf(`illegal number syntax: ${quote(text)}`, token.pos);
    if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`, token.pos);
    return { type: 'number', pos: token.pos, text, value: f, isInt: Number.isSafeInteger(f) };
  }
}

/** strconv.ParseInt(text, 0, 64) syntax (sign, 0x/0o/0b/legacy-octal prefixes, underscores). */
function parseGoInt(text: string): bigint | undefined {
  const m = /^([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)$/.exec(text);
  if (!m) return undefined;
  let body = m[2]!.replace(/_/g, '');
  if (/^0[0-7]/.test(body)) body = `0o${body.slice(1)}`;
  if (/^0[oO]/.test(body)) body = `0o${body.slice(2)}`;
  const v = BigInt(body);
  return m[1] === '-' ? -v : v;
}

/** strconv.ParseFloat syntax: decimal (with underscores) or hexadecimal mantissa with p exponent. */
function parseGoFloat(text: string): number | undefined {
  const hex = /^([+-]?)0[xX]((?:_?[0-9a-fA-F])*)(?:\.((?:[0-9a-fA-F]_?)*))?[pP]([+-]?[0-9_]+)$/.exec(text);
  if (hex) {
    const intPart = hex[2]!.replace(/_/g, '');
    const frac = (hex[3] ?? '').replace(/_/g, '');
    if (intPart === '' && frac === '') return undefined;
    let mant = 0;
    for (const d of intPart + frac) mant = mant * 16 + parseInt(d, 16);
    const exp = Number(hex[4]!.replace(/_/g, '')) - 4 * frac.length;
    const v = mant * 2 ** exp;
    return hex[1] === '-' ? -v : v;
  }
  if (!/^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/.test(text)) return undefined;
  const v = Number(text.replace(/_/g, ''));
  return Number.isNaN(v) ? undefined : v;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** strconv.Unquote for "…", `…` and '…' literals; undefined on invalid syntax. */
export function unquoteGo(lit: string): string | undefined {
  if (lit.length < 2) return undefined;
  const q = lit[0]!;
  if (lit[lit.length - 1] !== q) return undefined;
  const body = lit.slice(1, -1);
  if (q === '`') return body.includes('`') ? undefined : body.replace(/\r/g, '');
  if (q !== '"' && q !== "'") return undefined;
  let out = '';
  const bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === q || ch === '\n') return undefined;
    if (ch !== '\\') {
      flushBytes();
      out += ch;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (e in SIMPLE_ESCAPES) {
      flushBytes();
      out += SIMPLE_ESCAPES[e];
    } else if (e === q) {
      flushBytes();
      out += q;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      const v = parseInt(hex, 16);
      i += n;
      if (e === 'x') {
        if (q === "'") {
          flushBytes();
          out += String.fromCodePoint(v);
        } else bytes.push(v);
      } else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
        flushBytes();
        out += String.fromCodePoint(v);
      }
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      const v = parseInt(oct, 8);
      if (v > 255) return undefined;
      i += 2;
      if (q === "'") {
        flushBytes();
        out += String.fromCodePoint(v);
      } else bytes.push(v);
    } else {
      return undefined;
    }
  }
  flushBytes();
  if (q === "'" && Array.from(out).length !== 1) return undefined;
  return out;
}
