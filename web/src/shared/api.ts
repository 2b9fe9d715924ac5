// The one HTTP client of both pages: Bearer key (+ X-Tenant-Id for operator keys), JSON in and out,
// and every 4xx/5xx read as an RFC 7807 problem (title, detail, code, request id) for <ProblemBox>.

import { webConfig } from "./config";

export interface Problem {
  status: number;
  title: string;
  detail: string;
  code: string;
  requestId: string | null;
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.title}: ${problem.detail}`);
    this.problem = problem;
  }
}

export interface Credentials {
  key: string;
  tenantId: string | null;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

function asString(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

export async function readProblem(response: Response): Promise<Problem> {
  const requestId = response.headers.get("X-Request-Id");
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = await response.json();
    if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's error page): fall back to the status line
  }
  return {
    status: response.status,
    title: asString(body.title, response.statusText || "Request failed"),
    detail: asString(body.detail, `The server answered ${response.status}.`),
    code: asString(body.code, `HTTP_${response.status}`),
    requestId,
  };
}

export function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export class ApiClient {
  private readonly baseUrl: string;

  constructor(
    private readonly credentials: Credentials,
    baseUrl?: string,
  ) {
    this.baseUrl = baseUrl ?? webConfig().apiUrl;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.credentials.key}`, ...extra };
    if (this.credentials.tenantId) headers["X-Tenant-Id"] = this.credentials.tenantId;
    return headers;
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const init: RequestInit = { method, headers: this.headers({ Accept: "application/json" }) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = this.headers({ Accept: "application/json", "Content-Type": "application/json" });
    }
    const response = await fetch(`${this.baseUrl}${path}${queryString(query)}`, init);
    if (!response.ok) throw new ApiError(await readProblem(response));
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, undefined, query);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body ?? {});
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** A binary answer (the invoice PDF) as a Blob, for a download link. */
  async blob(path: string): Promise<Blob> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: this.headers() });
    if (!response.ok) throw new ApiError(await readProblem(response));
    return response.blob();
  }
}

export function toProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof SyntaxError) {
    return { status: 0, title: "Invalid JSON", detail, code: "INVALID_JSON", requestId: null };
  }
  return { status: 0, title: "Network error", detail: `The API could not be reached: ${detail}`, code: "NETWORK_ERROR", requestId: null };
}
