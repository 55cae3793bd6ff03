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
  VariableNode,
} from './ast.js';
import { nodeString } from './ast.js';
import { PositionedError } from './errors.js';
import { formatValue } from './fmt.js';
import { quote } from './gostrings.js';
import { BUILTINS, goTypeName, type FuncContext, type FuncSpec, type ParamType } from './funcs.js';
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

export function execute(root: ListNode, data: Record<string, unknown>, lookup: FuncLookup): string {
  const env = isMap(data.Env) ? data.Env : {};
  const ex = new Executor(data, lookup, { env });
  ex.walk(data, root);
  return ex.out;
}

class Executor {
  out = '';
  private readonly vars: Variable[];

  constructor(
    root: Value,
    private readonly lookup: FuncLookup,
    private readonly ctx: FuncContext,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  private fail(message: string, node: { pos: number }, cause?: unknown): never {
    throw new PositionedError(message, node.pos, { cause });
  }

  // --- variables ------------------------------------------------------------

  private varValue(name: string, node: Node): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.fail(`undefined variable: ${name}`, node);
  }

  private setVar(name: string, value: Value, node: Node): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`, node);
  }

  // --- walking --------------------------------------------------------------

  walk(dot: Value, node: Node): Signal {
    switch (node.type) {
      case 'list':
        for (const n of node.nodes) {
          const signal = this.walk(dot, n);
          if (signal) return signal;
        }
        return undefined;
      case 'text':
        this.out += node.text;
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
      this.out += '<no value>';
      return;
    }
    if (typeof v === 'function') this.fail(`can't print ${nodeString(node)} of type func`, node);
    this.out += formatValue(v);
  }

  private walkIfOrWith(type: 'if' | 'with', dot: Value, node: BranchNode): Signal {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) return this.walk(type === 'with' ? val : dot, node.list);
      if (node.elseList) return this.walk(dot, node.elseList);
      return undefined;
    } finally {
      this.vars.length = mark;
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
          this.vars.length = mark;
        }
      };
      let ran = false;
      switch (kindOf(val)) {
        case 'slice':
          for (const [i, elem] of (val as unknown[]).entries()) {
            ran = true;
            if (iteration(i, elem)) break;
          }
          break;
        case 'map': {
          const m = val as Record<string, unknown>;
          for (const k of mapKeys(m)) {
            ran = true;
            if (iteration(k, m[k])) break;
          }
          break;
        }
        case 'int': {
          if (decl.length > 1) this.fail(`can't use ${formatValue(val)} to iterate over more than one variable`, r);
          const n = Number(val);
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
      this.vars.length = outer;
    }
  }

  // --- evaluation -------------------------------------------------------------

  private evalPipeline(dot: Value, pipe: PipeNode): Value {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value, v);
      else this.vars.push({ name: v.ident[0]!, value });
    }
    return value;
  }

  private notAFunction(args: Node[] | undefined, final: Final): void {
    if ((args && args.length > 1) || final !== MISSING) {
      this.fail(`can't give argument to non-function ${nodeString(args![0]!)}`, args![0]!);
    }
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Final): Value {
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
      case 'string': return first.text;
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
    try {
      const result = fn.fn(this.ctx, argv);
      return result;
    } catch (err) {
      if (err instanceof PositionedError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      this.fail(`error calling ${name}: ${msg}`, node, err);
    }
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
        if (n.type === 'string') return n.text;
        this.fail(`expected string; found ${nodeString(n)}`, n);
      case 'any':
        if (n.type === 'bool') return n.value;
        if (n.type === 'number') return n.value;
        if (n.type === 'string') return n.text;
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
