export interface TollgateEvent {
  event_id: string;
  event_name: string;
  timestamp: string;
  external_customer_id?: string;
  quantity?: number;
  properties?: Record<string, unknown>;
}

export interface IngestInput {
  eventName: string;
  /** The customer's external id (a customer key may leave it out). */
  externalCustomerId?: string;
  /** Default 1. */
  quantity?: number;
  properties?: Record<string, unknown>;
  /** Default: now. */
  timestamp?: Date | string;
  /** The idempotency key; default: a new UUID, made at ingest() so every retry reuses it. */
  eventId?: string;
}

export interface TollgateClientOptions {
  apiUrl: string;
  apiKey: string;
  /** Sent as X-Tenant-Id. */
  tenantId?: string | null;
  /** Send when this many events are queued (default 100, at most 1000). */
  flushAt?: number;
  /** Send at least this often (default 5000). The timer never keeps the process alive. */
  flushIntervalMs?: number;
  /** Beyond this, new events are dropped (onDrop). Default 10000. */
  maxQueueSize?: number;
  maxRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  timeoutMs?: number;
  /** false: nothing leaves the process; events land in capturedEvents (for tests). */
  send?: boolean;
  onRejected?: ((event: TollgateEvent, code: string, detail: string) => void) | null;
  onError?: ((error: TollgateError, events: TollgateEvent[]) => void) | null;
  onDrop?: ((event: TollgateEvent, reason: string) => void) | null;
  fetch?: typeof fetch;
}

export interface TollgateStats {
  queued: number;
  sent: number;
  duplicates: number;
  retried: number;
  rejected: number;
  dropped: number;
  failed: number;
  requests: number;
}

export declare class TollgateError extends Error {
  status: number | null;
  code: string | null;
  detail: string;
}

export declare class InvalidEventError extends TollgateError {}

export declare class TollgateClient {
  constructor(options: TollgateClientOptions);
  readonly capturedEvents: TollgateEvent[];
  /** Queue one event and return its eventId. Throws InvalidEventError for an event the API would refuse. */
  ingest(input: IngestInput): string;
  /** Send everything queued so far and wait for it. Await it before the process ends. */
  flush(): Promise<void>;
  /** Flush, then stop. */
  shutdown(): Promise<void>;
  stats(): TollgateStats;
}

export declare const MAX_BATCH_EVENTS: 1000;
export declare const MAX_PROPERTIES_BYTES: 16384;
export declare const VERSION: string;
