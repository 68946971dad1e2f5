// The admin API (/admin/v1) as the console uses it: typed answers, errors as api.ts's
// ApiError (the API's own words and the param they name). Shapes: src/vidugate/api/admin.

import type { Price, Status } from "../api";
import { send } from "../api";

export interface Limits {
  requests_per_minute: number | null;
  creates_per_minute: number | null;
  active_videos: number | null;
  spend_per_day: string | null;
}

export interface Tenant {
  id: string;
  name: string;
  balance: string;
  overdraft: string;
  created_at: number;
  weight: number;
  limits: Limits;
  active_videos: number;
}

export interface LedgerEntry {
  id: number;
  tenant_id: string;
  key_id: string | null;
  task_id: string | null;
  kind: "topup" | "adjust" | "reserve" | "settle" | "refund";
  amount: string;
  balance_after: string;
  model: string | null;
  reason: string;
  created_at: number;
}

export interface Key {
  id: string;
  name: string;
  prefix: string;
  tenant_id: string;
  role: "client" | "admin";
  status_dialect: string;
  created_at: number;
  revoked_at: number | null;
  spend_cap: string | null;
  spent: string;
  limits: Limits;
  active_videos: number;
}

export interface PriceTable {
  id: number;
  source: string;
  created_at: number;
  document: { currency: string; decimals: number; models: Record<string, unknown> };
}

export interface Task {
  id: string;
  tenant_id: string | null;
  key_id: string;
  model: string;
  status: Status;
  surface: string;
  created_at: number;
  completed_at: number | null;
  deleted: boolean;
  error_code: string | null;
  price: Price | null;
  upstream_credits: string | null;
}

export interface Page<T, C = string> {
  data: T[];
  has_more: boolean;
  last_id: C | null;
}

export interface ReportLine {
  group: string | null;
  name: string | null;
  videos: number;
  charged_amount: string;
  refunded_amount?: string;
  upstream_cost?: string | null;
  upstream_credits?: string;
  margin?: string | null;
}

export interface Report {
  currency: string | null;
  credit_value?: string | null;
  data: ReportLine[];
  totals: ReportLine;
  truncated: boolean;
}

export interface TimelineEvent {
  at: number;
  source: "task" | "ledger" | "webhook";
  type: string;
  status?: string;
  summary: string;
  detail: Record<string, unknown>;
}

export interface Timeline {
  video: Task;
  truncated: boolean;
  events: TimelineEvent[];
}

export interface UpstreamAccount {
  id: string;
  provider: string;
  health: "active" | "throttled" | "exhausted" | "disabled";
  reason: string;
  until: number | null;
  updated_at: number;
  credits: string | null;
  credits_read_at: number | null;
  concurrency: number;
  running: number;
  waiting: number;
  base_url: string | null;
}

export interface WebhookEndpoint {
  id: string;
  tenant_id: string;
  url: string;
  events: string[];
  description: string;
  disabled: boolean;
  created_at: number;
}

export interface Attempt {
  message_id: string;
  task_id: string;
  event: string;
  attempt: number;
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export type Query = Record<string, string | undefined>;

/** `path?name=value&...` with the empty values left out. */
export function withQuery(path: string, query: Query = {}): string {
  const given = Object.entries(query).filter((e): e is [string, string] => !!e[1]);
  return given.length ? `${path}?${new URLSearchParams(given).toString()}` : path;
}

const id = encodeURIComponent;

export class Admin {
  constructor(private readonly key: string) {}

  /** The raw answer (a CSV report is read as a file). */
  fetch(method: string, path: string, body?: string, type = "application/json"): Promise<Response> {
    return send(this.key, method, `admin/v1/${path}`, body, body === undefined ? undefined : type);
  }
  async get<T>(path: string, query?: Query): Promise<T> {
    return (await (await this.fetch("GET", withQuery(path, query))).json()) as T;
  }
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return (await (await this.fetch(method, path, text)).json()) as T;
  }

  tenants = (): Promise<{ data: Tenant[] }> => this.get("tenants");
  tenant = (tenant: string): Promise<Tenant> => this.get(`tenants/${id(tenant)}`);
  ledger = (tenant: string): Promise<Page<LedgerEntry, number>> =>
    this.get("ledger", { tenant_id: tenant, limit: "1000" });
  keys = (tenant?: string): Promise<{ data: Key[] }> => this.get("keys", { tenant_id: tenant });
  tasks = (query: Query): Promise<Page<Task>> => this.get("tasks", { limit: "25", ...query });
  timeline = (video: string): Promise<Timeline> => this.get(`videos/${id(video)}/timeline`);
  upstream = (): Promise<{ data: UpstreamAccount[] }> => this.get("upstream/accounts");
  endpoints = (): Promise<{ data: WebhookEndpoint[] }> => this.get("webhooks/endpoints");
  deliveries = (endpoint: string): Promise<{ data: Attempt[] }> =>
    this.get(`webhooks/endpoints/${id(endpoint)}/deliveries`);
  redeliver = (message: string): Promise<unknown> =>
    this.call("POST", `webhooks/messages/${id(message)}/redeliver`);
}
