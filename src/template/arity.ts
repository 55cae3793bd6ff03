import type { ListNode, Node } from './ast.js';
import type { FuncSpec } from './funcs.js';

export interface CallProblem {
  /** Offset in the template text. */
  pos: number;
  detail: string;
}

/**
 * Calls with the wrong number of arguments, found without running the
 * template: `{{ replace .Version "v" }}` fails every time it runs, so it is
 * reported when the config is checked. The messages are the ones running it
 * gives. A piped value counts as the last argument, as in Go.
 */
export function callProblems(root: ListNode, lookup: (name: string) => FuncSpec | undefined): CallProblem[] {
  const out: CallProblem[] = [];
  const visit = (n: Node | undefined): void => {
    if (!n || out.length >= 20) return;
    switch (n.type) {
      case 'list':
        for (const c of n.nodes) visit(c);
        return;
      case 'action':
        visit(n.pipe);
        return;
      case 'if':
      case 'with':
      case 'range':
        visit(n.pipe);
        visit(n.list);
        visit(n.elseList);
        return;
      case 'pipe':
        n.cmds.forEach((cmd, i) => {
          const head = cmd.args[0];
          if (head?.type === 'identifier') {
            const fn = lookup(head.ident);
            if (fn) {
              const given = cmd.args.length - 1 + (i > 0 ? 1 : 0);
              const want = fn.params.length;
              if (fn.variadic ? given < want : given !== want) {
                out.push({ pos: head.pos, detail: `wrong number of args for ${head.ident}: want ${fn.variadic ? 'at least ' : ''}${want} got ${given}` });
              }
            }
          }
          for (const a of cmd.args) visit(a);
        });
        return;
      case 'command':
        for (const a of n.args) visit(a);
        return;
      case 'chain':
        visit(n.node);
        return;
      default:
        return;
    }
  };
  visit(root);
  return out;
}
