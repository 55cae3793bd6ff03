/**
 * Executes a parse tree against a data object with Go text/template
 * semantics and `missingkey=error` (GoReleaser's setting): a missing map
 * key is an error, pipelines pass the previous value as the last argument,
 * and/or short-circuit, range iterates maps in sorted key order.
 */
import type {
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  PipeNode,
  RangeNode,
  StringNode,
  VariableNode,
} from './ast.js';
import { nodeString } from './ast.js';
import { PositionedError } from './errors.js';
import { formatValue } from './fmt.js';
import { quote } from './gostrings.js';
import { BUILTINS, goTypeName, type FuncContext, type FuncSpec, type ParamType } from './funcs.js';
import { formatSize, MAX_LIST, MAX_OUTPUT, MAX_RANGE, MAX_STEPS, MAX_WORK } from './limits.js';
import { isMap, isNil, isTrue, kindOf, mapGet, mapHas, mapKeys, typeName } from './values.js';

/** "No value passed down the pipeline" (Go's missingVal). */
const MISSING: unique symbol = Symbol('missing');
type Value = unknown;
type Final = Value | typeof MISSING;

type Signal = 'break' | 'continue' | undefined;

interface Variable {
  readonly name: string;
  value: Value;
}

export type FuncLookup = (name: string) => FuncSpec | undefined;

/**
 * Maps the literal text of the template (text nodes and string constants) before
 * it is used; the result is a value and is never parsed. Used to substitute
 * signer argument variables without evaluating their contents.
 */
export type LiteralFilter = (text: string, pos: number) => string;

export function execute(root: ListNode, data: Record<string, unknown>, lookup: FuncLookup, literal?: LiteralFilter): string {
  const env = isMap(data.Env) ? data.Env : {};
  const ex = new Executor(data, lookup, { env }, literal);
  ex.walk(data, root);
  return ex.out;
}

class Executor {
  out = '';
  private readonly vars: Variable[];
  /** Innermost binding of each name, for O(1) lookups however many variables are declared. */
  private readonly byName = new Map<string, Variable[]>();
  private steps = 0;
  /** Characters handed to and returned by function calls so far (see MAX_WORK). */
  private work = 0;

  constructor(
    root: Value,
    private readonly lookup: FuncLookup,
    private readonly ctx: FuncContext,
    private readonly literal?: LiteralFilter,
  ) {
    this.vars = [];
    this.declareVar('$', root);
  }

  private step(node: { pos: number }): void {
    if (++this.steps > MAX_STEPS) this.fail(`template needs more than ${MAX_STEPS.toLocaleString('en-US')} evaluation steps`, node);
  }

  private emit(text: string, node: { pos: number }): void {
    if (this.out.length + text.length > MAX_OUTPUT) this.fail(`template output is larger than ${formatSize(MAX_OUTPUT)}`, node);
    this.out += text;
  }

  private declareVar(name: string, value: Value): void {
    const v: Variable = { name, value };
    this.vars.push(v);
    let stack = this.byName.get(name);
    if (!stack) this.byName.set(name, (stack = []));
    stack.push(v);
  }

  /** Drops the variables declared after `mark` (leaving a scope). */
  private popVars(mark: number): void {
    while (this.vars.length > mark) {
      const v = this.vars.pop()!;
      this.byName.get(v.name)!.pop();
    }
  }

  private fail(message: string, node: { pos: number }, cause?: unknown): never {
    throw new PositionedError(message, node.pos, { cause });
  }

  // --- variables ------------------------------------------------------------

  private binding(name: string): Variable | undefined {
    const stack = this.byName.get(name);
    return stack && stack.length > 0 ? stack[stack.length - 1] : undefined;
  }

  private varValue(name: string, node: Node): Value {
    const v = this.binding(name);
    if (v) return v.value;
    this.fail(`undefined variable: ${name}`, node);
  }

  private setVar(name: string, value: Value, node: Node): void {
    const v = this.binding(name);
    if (v) {
      v.value = value;
      return;
    }
    this.fail(`undefined variable: ${name}`, node);
  }

  // --- walking --------------------------------------------------------------

  walk(dot: Value, node: Node): Signal {
    this.step(node);
    switch (node.type) {
      case 'list':
        for (const n of node.nodes) {
          const signal = this.walk(dot, n);
          if (signal) return signal;
        }
        return undefined;
      case 'text':
        this.emit(this.literal ? this.literal(node.text, node.pos) : node.text, node);
        return undefined;
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return undefined;
      }
      case 'if':
      case 'with':
        return this.walkIfOrWith(node.type, dot, node);
      case 'range':
        return this.walkRange(dot, node);
      case 'break':
      case 'continue':
        return node.type;
      default:
        this.fail(`unknown node: ${nodeString(node)}`, node);
    }
  }

  private printValue(node: Node, v: Value): void {
    if (isNil(v)) {
      this.emit('<no value>', node);
      return;
    }
    if (typeof v === 'function') this.fail(`can't print ${nodeString(node)} of type func`, node);
    this.emit(formatValue(v), node);
  }

  private walkIfOrWith(type: 'if' | 'with', dot: Value, node: BranchNode): Signal {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) return this.walk(type === 'with' ? val : dot, node.list);
      if (node.elseList) return this.walk(dot, node.elseList);
      return undefined;
    } finally {
      this.popVars(mark);
    }
  }

  private walkRange(dot: Value, r: RangeNode): Signal {
    const outer = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      // Returns true to stop (break).
      const iteration = (index: Value, elem: Value): boolean => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem, r);
          else this.vars[this.vars.length - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem, r);
          else this.vars[this.vars.length - 2]!.value = index;
        }
        try {
          return this.walk(elem, r.list) === 'break';
        } finally {
          this.popVars(mark);
        }
      };
      const bounded = (count: number) => {
        if (count > MAX_RANGE) {
          this.fail(`range over ${count.toLocaleString('en-US')} items exceeds the limit of ${MAX_RANGE.toLocaleString('en-US')}`, r);
        }
      };
      let ran = false;
      switch (kindOf(val)) {
        case 'slice':
          bounded((val as unknown[]).length);
          for (const [i, elem] of (val as unknown[]).entries()) {
            ran = true;
            if (iteration(i, elem)) break;
          }
          break;
        case 'map': {
          const m = val as Record<string, unknown>;
          const keys = mapKeys(m);
          bounded(keys.length);
          for (const k of keys) {
            ran = true;
            if (iteration(k, m[k])) break;
          }
          break;
        }
        case 'int': {
          if (decl.length > 1) this.fail(`can't use ${formatValue(val)} to iterate over more than one variable`, r);
          const n = Number(val);
          bounded(n);
          for (let i = 0; i < n; i++) {
            ran = true;
            if (iteration(undefined, i)) break;
          }
          break;
        }
        case 'nil':
          break; // like an empty map
        default:
          this.fail(`range can't iterate over ${formatValue(val)}`, r);
      }
      if (!ran && r.elseList) return this.walk(dot, r.elseList);
      return undefined;
    } finally {
      this.popVars(outer);
    }
  }

  // --- evaluation -------------------------------------------------------------

  private evalPipeline(dot: Value, pipe: PipeNode): Value {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value, v);
      else this.declareVar(v.ident[0]!, value);
    }
    return value;
  }

  private notAFunction(args: Node[] | undefined, final: Final): void {
    if ((args && args.length > 1) || final !== MISSING) {
      this.fail(`can't give argument to non-function ${nodeString(args![0]!)}`, args![0]!);
    }
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Final): Value {
    this.step(cmd);
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': this.fail('nil is not a command', first);
      case 'number': return first.value;
      case 'string': return this.literalText(first);
    }
    this.fail(`can't evaluate command ${quote(nodeString(first))}`, first);
  }

  private evalChain(dot: Value, chain: ChainNode, args: Node[] | undefined, final: Final): Value {
    if (chain.node.type === 'nil') this.fail(`indirection through explicit nil in ${nodeString(chain)}`, chain);
    const receiver = this.evalArg(dot, 'any', chain.node);
    return this.evalFieldChain(dot, receiver, chain, chain.field, args, final);
  }

  private evalVariable(dot: Value, v: VariableNode, args: Node[] | undefined, final: Final): Value {
    const value = this.varValue(v.ident[0]!, v);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: Value,
    receiver: Value,
    node: FieldNode | VariableNode | ChainNode,
    ident: string[],
    args: Node[] | undefined,
    final: Final,
  ): Value {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(ident[i]!, node, undefined, MISSING, r);
    return this.evalField(ident[ident.length - 1]!, node, args, final, r);
  }

  private evalField(fieldName: string, node: FieldNode | VariableNode | ChainNode, args: Node[] | undefined, final: Final, receiver: Value): Value {
    const field = ` (field ${nodeString(node)})`;
    if (isNil(receiver)) this.fail(`nil pointer evaluating interface {}.${fieldName}${field}`, node);
    const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
    if (isMap(receiver)) {
      if (hasArgs) this.fail(`${fieldName} is not a method but has arguments${field}`, node);
      if (mapHas(receiver, fieldName)) return mapGet(receiver, fieldName);
      this.fail(`map has no entry for key ${quote(fieldName)}${field}`, node);
    }
    this.fail(`can't evaluate field ${fieldName} in type ${typeName(receiver)}${field}`, node);
  }

  private evalFunction(dot: Value, node: IdentifierNode, args: Node[] | undefined, final: Final): Value {
    const fn = this.lookup(node.ident);
    if (!fn) this.fail(`function ${quote(node.ident)} not defined`, node);
    return this.evalCall(dot, fn, node, args, final);
  }

  private evalCall(dot: Value, fn: FuncSpec, node: IdentifierNode, args: Node[] | undefined, final: Final): Value {
    const name = node.ident;
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const numFixed = fn.params.length;
    if (fn.variadic) {
      if (numIn < numFixed) this.fail(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`, node);
    } else if (numIn !== numFixed) {
      this.fail(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`, node);
    }
    const typeAt = (i: number): ParamType => (i < numFixed ? fn.params[i]! : fn.variadic!);

    // Go 1.18+: and/or evaluate their arguments lazily and stop at the deciding one.
    if ((name === 'and' || name === 'or') && fn === BUILTINS.get(name)) {
      let v: Value;
      for (const a of argNodes) {
        v = this.evalArg(dot, 'any', a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: unknown[] = argNodes.map((a, i) => this.evalArg(dot, typeAt(i), a));
    if (final !== MISSING) argv.push(this.validateType(final, typeAt(numIn - 1), node));
    this.charge(argv, node);
    let result: Value;
    try {
      result = fn.fn(this.ctx, argv);
    } catch (err) {
      if (err instanceof PositionedError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      this.fail(`error calling ${name}: ${msg}`, node, err);
    }
    // Bounded values: a chain of calls cannot build an unbounded string or list.
    if (typeof result === 'string' && result.length > MAX_OUTPUT) {
      this.fail(`error calling ${name}: result is larger than ${formatSize(MAX_OUTPUT)}`, node);
    }
    if (Array.isArray(result) && result.length > MAX_LIST) {
      this.fail(`error calling ${name}: result has more than ${MAX_LIST.toLocaleString('en-US')} elements`, node);
    }
    this.charge([result], node);
    return result;
  }

  private charge(values: unknown[], node: { pos: number }): void {
    for (const v of values) {
      if (typeof v === 'string') this.work += v.length;
      else if (Array.isArray(v)) for (const x of v) this.work += typeof x === 'string' ? x.length : 1;
      else this.work += 1;
    }
    if (this.work > MAX_WORK) this.fail(`template processes more than ${formatSize(MAX_WORK)} of text in function calls`, node);
  }

  private literalText(n: StringNode): string {
    return this.literal ? this.literal(n.text, n.pos) : n.text;
  }

  private evalArg(dot: Value, type: ParamType, n: Node): Value {
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, type, n);
      case 'nil':
        if (canBeNil(type)) return null;
        this.fail(`cannot assign nil to ${goTypeName(type)}`, n);
      case 'field':
        return this.validateType(this.evalFieldChain(dot, dot, n, n.ident, [n], MISSING), type, n);
      case 'variable':
        return this.validateType(this.evalVariable(dot, n, undefined, MISSING), type, n);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), type, n);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, undefined, MISSING), type, n);
      case 'chain':
        return this.validateType(this.evalChain(dot, n, undefined, MISSING), type, n);
    }
    switch (type) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.fail(`expected bool; found ${nodeString(n)}`, n);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.value;
        this.fail(`expected integer; found ${nodeString(n)}`, n);
      case 'string':
        if (n.type === 'string') return this.literalText(n);
        this.fail(`expected string; found ${nodeString(n)}`, n);
      case 'any':
        if (n.type === 'bool') return n.value;
        if (n.type === 'number') return n.value;
        if (n.type === 'string') return this.literalText(n);
    }
    this.fail(`can't handle ${nodeString(n)} for arg of type ${goTypeName(type)}`, n);
  }

  private validateType(value: Value, type: ParamType, node: Node): Value {
    if (isNil(value)) {
      if (canBeNil(type)) return null;
      this.fail(`invalid value; expected ${goTypeName(type)}`, node);
    }
    let ok: boolean;
    switch (type) {
      case 'any': return value;
      case 'string': ok = typeof value === 'string'; break;
      case 'int': ok = kindOf(value) === 'int'; break;
      case 'bool': ok = typeof value === 'boolean'; break;
      case 'strmap': ok = isMap(value); break;
      case 'strlist': ok = Array.isArray(value) && value.every((x) => typeof x === 'string'); break;
    }
    if (!ok) this.fail(`wrong type for value; expected ${goTypeName(type)}; got ${typeName(value)}`, node);
    return typeof value === 'bigint' ? Number(value) : value;
  }
}

function canBeNil(type: ParamType): boolean {
  return type === 'any' || type === 'strmap' || type === 'strlist';
}
