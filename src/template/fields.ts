/**
 * Root-relative field references of a parse tree, for check-time validation:
 * `{{ .Version }}` → ["Version"], `{{ .Env.FOO }}` → ["Env","FOO"],
 * `{{ $.Tag }}` → ["Tag"], `{{ with .Env }}{{ .HOME }}{{ end }}` → ["Env"], ["Env","HOME"].
 * Inside `range` (and `with` over a computed value) dot is not a known path,
 * so `.X` there is not reported; `$.X` always is.
 */
import type { ListNode, Node, PipeNode } from './ast.js';

export function collectFields(root: ListNode): string[][] {
  const out: string[][] = [];
  const seen = new Set<string>();
  const add = (path: string[]) => {
    if (path.length === 0) return;
    const key = path.join('\u0000');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(path);
  };

  // `dot` is the path of the current dot relative to the data root, or null when unknown.
  const visit = (n: Node | undefined, dot: string[] | null): void => {
    if (!n) return;
    switch (n.type) {
      case 'list':
        for (const c of n.nodes) visit(c, dot);
        return;
      case 'action':
        visit(n.pipe, dot);
        return;
      case 'if':
        visit(n.pipe, dot);
        visit(n.list, dot);
        visit(n.elseList, dot);
        return;
      case 'with':
        visit(n.pipe, dot);
        visit(n.list, pathOf(n.pipe, dot));
        visit(n.elseList, dot);
        return;
      case 'range':
        visit(n.pipe, dot);
        visit(n.list, null);
        visit(n.elseList, dot);
        return;
      case 'pipe':
        for (const c of n.cmds) visit(c, dot);
        return;
      case 'command':
        for (const a of n.args) visit(a, dot);
        return;
      case 'field':
        if (dot) add([...dot, ...n.ident]);
        return;
      case 'variable':
        if (n.ident[0] === '$') add(n.ident.slice(1));
        return;
      case 'chain':
        visit(n.node, dot);
        return;
      default:
        return;
    }
  };
  visit(root, []);
  return out;
}

/** The root-relative path a `with` pipeline sets dot to, when it is a plain field reference. */
function pathOf(pipe: PipeNode, dot: string[] | null): string[] | null {
  if (pipe.cmds.length !== 1 || pipe.cmds[0]!.args.length !== 1) return null;
  const arg = pipe.cmds[0]!.args[0]!;
  if (arg.type === 'field') return dot ? [...dot, ...arg.ident] : null;
  if (arg.type === 'variable' && arg.ident[0] === '$') return arg.ident.slice(1);
  if (arg.type === 'dot') return dot;
  return null;
}
