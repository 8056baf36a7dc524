// The page's side of the crypto worker: starts it on first use, sends typed requests, and
// turns failures into CryptoFailure errors that carry a kind to translate. Pages import this
// module (and protocol.ts for the types), never the modules that run libsodium.
import { FAILURE_KINDS, type FailureKind, type PendingKeyChange } from "./errors";
import type { Api, Operation, Request, Response } from "./protocol";

/** A request the worker refused or could not run; `kind` picks the message to show. */
export class CryptoFailure extends Error {
  override name = "CryptoFailure";
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** KeysChanged: the resets a person must confirm, as the worker found them. */
    readonly keyChanges: PendingKeyChange[] = [],
  ) {
    super(message);
  }
}

export type WorkerFactory = () => Worker;

/** Vite turns this into the worker chunk's URL and emits the chunk (assets/crypto-worker-*.js). */
const defaultWorker: WorkerFactory = () => new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "colloque-crypto" });

export class CryptoClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: CryptoFailure) => void }>();

  constructor(private readonly makeWorker: WorkerFactory = defaultWorker) {}

  call<Op extends Operation>(op: Op, params: Api[Op]["params"]): Promise<Api[Op]["result"]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, op, params } as Request);
    });
  }

  /** Drops every secret the worker holds and stops it (log out). */
  terminate(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.failAll(new CryptoFailure("WorkerUnavailable", "the crypto worker was stopped"));
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = this.makeWorker();
    worker.addEventListener("message", (event: MessageEvent<Response>) => this.settle(event.data));
    // A worker that cannot load (CSP, a failed download, no WebAssembly) fails every call
    // rather than leave the page waiting.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.worker = undefined;
      this.failAll(new CryptoFailure("WorkerUnavailable", "the crypto worker could not start"));
    });
    worker.addEventListener("messageerror", () => this.failAll(new CryptoFailure("InternalError", "a message could not be read")));
    this.worker = worker;
    return worker;
  }

  private settle(response: Response): void {
    const waiting = this.pending.get(response.id);
    if (waiting === undefined) return;
    this.pending.delete(response.id);
    if (response.ok) {
      waiting.resolve(response.result);
      return;
    }
    const kind = (FAILURE_KINDS as readonly string[]).includes(response.failure.kind) ? response.failure.kind : "InternalError";
    waiting.reject(new CryptoFailure(kind, response.failure.message, response.failure.keyChanges ?? []));
  }

  private failAll(error: CryptoFailure): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

let shared: CryptoClient | undefined;

/** The page's one worker (so that handles stay valid across components). */
export function cryptoClient(): CryptoClient {
  shared ??= new CryptoClient();
  return shared;
}
