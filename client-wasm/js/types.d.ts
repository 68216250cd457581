/** A virtual request's response, as a Sails server sends it. */
export interface JWRObject {
  body: any;
  headers: Record<string, any>;
  statusCode: number;
}

/** The JWR a callback or Promise gets: the response, with `error` and methods. */
export interface JWR extends JWRObject {
  /** An `Error` when the status is below 200 or 400 and above. */
  error?: Error;
  /** `[ResponseFromSails]  -- Status: …  -- Headers: …  -- Body: …` */
  toString(): string;
  /** `{body, headers, statusCode}`. */
  toPOJO(): JWRObject;
  /** The same as `toPOJO()`, for `JSON.stringify`. */
  toJSON(): JWRObject;
  /** Streaming is not supported: returns an `Error`, as sails.io.js does. */
  pipe(): Error;
}

/** Called with the response body and the JWR. */
export type RequestCallback = (body: any, jwr: JWR | JWRObject) => void;

/** What a request's Promise resolves to when no callback is given. */
export interface RequestResult {
  body: any;
  jwr: JWR;
}

/** Options of `socket.request()`. */
export interface RequestOptions {
  url: string;
  method?: string;
  params?: Record<string, any> | any[];
  data?: Record<string, any> | any[];
  headers?: Record<string, string | undefined>;
}

/** Per-socket options; each falls back to `io.sails`. */
export interface SocketOptions {
  url?: string;
  useCORSRouteToGetCookie?: boolean | string;
  multiplex?: boolean;
  transports?: string[];
  query?: string;
  path?: string;
  headers?: Record<string, string | undefined>;
  initialConnectionHeaders?: Record<string, string>;
  reconnection?: boolean;
  reconnectionAttempts?: number;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  rejectUnauthorized?: boolean;
  randomizationFactor?: number;
  timeout?: number | false;
  /** Engine.IO revision: 3 (default, every Sails server) or 4. */
  eio?: 3 | 4;
  /**
   * When a reconnection did not get the socket's rooms back, send again, in order and
   * without callbacks, the requests whose answers said they joined one (default false).
   */
  resubscribe?: boolean;
}

/** How a reconnection went: `socket.recovery`, and the second argument of `reconnect`. */
export interface RecoveryOutcome {
  /** Whether the server gave the socket its rooms and the broadcasts it missed back. */
  recovered: boolean;
  /**
   * Why not: `expired`, `trimmed`, `unknown`, `restarted`, or `unsupported` (the
   * server sent no status: it does not recover connections). Absent when recovered.
   */
  reason?: string;
  /** How many missed broadcasts the server sends (they come before any new one). */
  missed: number;
}

/** A socket connected (or connecting) to a Sails server. */
export interface SailsSocket extends SocketOptions {
  get(url: string, cb?: RequestCallback): Promise<RequestResult> | undefined;
  get(url: string, data: any, cb?: RequestCallback): Promise<RequestResult> | undefined;
  post(url: string, cb?: RequestCallback): Promise<RequestResult> | undefined;
  post(url: string, data: any, cb?: RequestCallback): Promise<RequestResult> | undefined;
  put(url: string, cb?: RequestCallback): Promise<RequestResult> | undefined;
  put(url: string, data: any, cb?: RequestCallback): Promise<RequestResult> | undefined;
  patch(url: string, cb?: RequestCallback): Promise<RequestResult> | undefined;
  patch(url: string, data: any, cb?: RequestCallback): Promise<RequestResult> | undefined;
  delete(url: string, cb?: RequestCallback): Promise<RequestResult> | undefined;
  delete(url: string, data: any, cb?: RequestCallback): Promise<RequestResult> | undefined;
  /** Without a callback, returns a Promise that rejects on a status < 200 or >= 400. */
  request(options: RequestOptions): Promise<RequestResult>;
  request(options: RequestOptions, cb: RequestCallback): undefined;
  /** The outcome of the last reconnection (`null` before any). */
  readonly recovery: RecoveryOutcome | null;
  on(event: "reconnect", handler: (attempts: number, outcome: RecoveryOutcome) => void): this;
  on(event: string, handler: (...args: any[]) => void): this;
  off(event: string, handler?: (...args: any[]) => void): this;
  removeAllListeners(event?: string): this;
  isConnected(): boolean;
  isConnecting(): boolean;
  mightBeAboutToAutoConnect(): boolean;
  disconnect(): this;
  reconnect(): this;
}

/** `io.sails`: settings every socket falls back to. */
export interface SailsConfig extends SocketOptions {
  autoConnect: boolean;
  environment: string;
  strict?: boolean;
  sdk: { version: string; language: string; platform: string; versionString: string };
  connect(url?: string | SocketOptions, opts?: SocketOptions): SailsSocket;
}

/** The `io` global of the one-script-tag bundle. */
export interface SailsIo {
  sails?: SailsConfig;
  socket?: SailsSocket;
}

/** `connect()` and `connect(url | opts)`: every argument may be left out. */
export function connect(url?: string | SocketOptions, opts?: SocketOptions): SailsSocket;
/** A socket that connects on its `_connect()`. */
export function createSocket(opts?: SocketOptions): SailsSocket;
