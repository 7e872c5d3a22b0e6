/**
 * aws-local-stepfunctions 3 uses Promise.withResolvers (Node ≥ 22). The simulator also runs on Node 20 (the
 * project's development runtime), so it adds the standard function when it is missing. Same semantics as ES2024.
 */
const P = Promise as unknown as { withResolvers?: () => unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = () => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
}
export {};
