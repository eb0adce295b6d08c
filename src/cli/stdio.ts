// process.stdout and process.stderr, made when first used (issue 16: start-up). Node creates each stream
// the first time the property is read, and the first one loads Node's stream modules: a few ms of every
// start, which a run whose guest prints nothing (`vpmu run` of a guest that exits at once) has no use for.
// So the CLI's error handler is attached to each stream when it is first read, not by reading both at
// start, and code that only waits for stdout to drain asks stdioUnused() before making it.

type StdioName = "stdout" | "stderr";

/** Streams watchStdio() is waiting for (read neither by the CLI nor by anyone else yet). */
const waiting = new Set<StdioName>();

/** Attach `onError` to process.stdout and process.stderr, each when it is first read. Where Node does not
 *  define them as configurable getters, both are read (and `onError` attached) at once. */
export function watchStdio(onError: (err: NodeJS.ErrnoException) => void): void {
  for (const name of ["stdout", "stderr"] as const) {
    const own = Object.getOwnPropertyDescriptor(process, name);
    const make = own?.get;
    if (make === undefined || own?.configurable !== true) {
      process[name].on("error", onError);
      continue;
    }
    waiting.add(name);
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: own.enumerable,
      get() {
        // Node's own getter again (it keeps the stream it made), then the handler, once.
        Object.defineProperty(process, name, own);
        waiting.delete(name);
        const stream = make.call(process) as NodeJS.WriteStream;
        stream.on("error", onError);
        return stream;
      },
    });
  }
}

/** Whether the stream has not been made yet, so nothing was ever written to it (false unless watchStdio()
 *  deferred it: reading process[name] to find out would make it). */
export function stdioUnused(name: StdioName): boolean {
  return waiting.has(name);
}
